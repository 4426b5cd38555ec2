"""MSAL Python and azure-identity get tokens from the emulator exactly as from Entra ID."""

from __future__ import annotations

from typing import Any

import jwt
import msal
import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import CertificateCredential, ClientSecretCredential

from graph_emulator.identity import PRODUCT_PERMISSIONS
from tests.emulator.identity.conftest import World

GRAPH_DEFAULT = ["https://graph.microsoft.com/.default"]


def pinned_session(ca_bundle: str) -> requests.Session:
    """A session that trusts only the emulator's CA.

    MSAL's own ``verify=`` option is overridden by ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``
    when those are set (requests merges the environment over session settings), so the CA
    is pinned on a session that ignores the environment.
    """
    session = requests.Session()
    session.trust_env = False
    session.verify = ca_bundle
    return session


def msal_app(world: World, client_id: str, credential: object,
             tenant: str | None = None) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        client_id, client_credential=credential, authority=world.authority(tenant),
        http_client=pinned_session(world.ca), instance_discovery=False)


def claims(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def test_secret_gets_a_bearer_token_for_graph(world: World) -> None:
    result = msal_app(world, world.full.client_id, world.full.secret) \
        .acquire_token_for_client(GRAPH_DEFAULT)
    assert result["token_type"] == "Bearer"
    assert result["expires_in"] == 3599
    assert result["token_source"] == "identity_provider"


def test_token_roles_are_the_granted_permissions(world: World) -> None:
    result = msal_app(world, world.full.client_id, world.full.secret) \
        .acquire_token_for_client(GRAPH_DEFAULT)
    payload = claims(result["access_token"])
    assert set(payload["roles"]) == PRODUCT_PERMISSIONS
    assert payload["aud"] == "https://graph.microsoft.com"
    assert payload["iss"] == f"https://sts.windows.net/{world.contoso}/"
    assert payload["tid"] == world.contoso
    assert payload["appid"] == world.full.client_id
    assert (payload["appidacr"], payload["idtyp"], payload["ver"]) == ("1", "app", "1.0")
    assert payload["exp"] - world.clock.now() == pytest.approx(3599, abs=2)


def test_read_only_app_token_carries_only_read_roles(world: World) -> None:
    result = msal_app(world, world.backup.client_id, world.backup.secret) \
        .acquire_token_for_client(GRAPH_DEFAULT)
    roles = set(claims(result["access_token"])["roles"])
    assert "User.Read.All" in roles
    assert not any("ReadWrite" in role for role in roles)


def test_graph_app_id_scope_is_accepted(world: World) -> None:
    result = msal_app(world, world.full.client_id, world.full.secret) \
        .acquire_token_for_client(["00000003-0000-0000-c000-000000000000/.default"])
    assert "access_token" in result, result


def test_certificate_with_sha1_thumbprint_gets_a_token(world: World) -> None:
    cert = world.certified.certificate
    assert cert is not None
    credential = {"private_key": cert.private_key_pem.decode(),
                  "thumbprint": world.certified.app.certificates[0].sha1_hex}
    result = msal_app(world, world.certified.client_id, credential) \
        .acquire_token_for_client(GRAPH_DEFAULT)
    assert "access_token" in result, result
    assert claims(result["access_token"])["appidacr"] == "2"


def test_certificate_with_public_certificate_gets_a_token(world: World) -> None:
    cert = world.certified.certificate
    assert cert is not None
    credential = {"private_key": cert.private_key_pem.decode(),
                  "public_certificate": cert.certificate_pem.decode()}
    result = msal_app(world, world.certified.client_id, credential) \
        .acquire_token_for_client(GRAPH_DEFAULT)
    assert "access_token" in result, result


def test_wrong_secret_is_aadsts7000215(world: World) -> None:
    result = msal_app(world, world.full.client_id, "not-the-secret-value") \
        .acquire_token_for_client(GRAPH_DEFAULT)
    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [7000215]
    assert result["error_description"].startswith("AADSTS7000215: Invalid client secret provided.")


def test_unknown_client_is_aadsts700016(world: World) -> None:
    stranger = "11111111-2222-3333-4444-555555555555"
    result = msal_app(world, stranger, "whatever-secret").acquire_token_for_client(GRAPH_DEFAULT)
    assert result["error"] == "unauthorized_client"
    assert result["error_codes"] == [700016]
    assert f"'{stranger}' was not found in the directory" in result["error_description"]


def test_app_of_another_tenant_is_not_found(world: World) -> None:
    result = msal_app(world, world.full.client_id, world.full.secret, tenant=world.fabrikam) \
        .acquire_token_for_client(GRAPH_DEFAULT)
    assert result["error_codes"] == [700016]


def test_unknown_tenant_fails_discovery_with_aadsts90002(world: World) -> None:
    missing = "99999999-8888-7777-6666-555555555555"
    with pytest.raises(ValueError, match="Unable to get authority configuration") as caught:
        msal_app(world, world.full.client_id, world.full.secret, tenant=missing)
    assert f"AADSTS90002: Tenant '{missing}' not found" in str(caught.value.__context__)


def test_tenant_addressed_by_domain_issues_its_token(world: World) -> None:
    result = msal_app(world, world.full.client_id, world.full.secret, tenant="contoso.com") \
        .acquire_token_for_client(GRAPH_DEFAULT)
    assert claims(result["access_token"])["tid"] == world.contoso


@pytest.mark.parametrize(("scope", "code", "error"), [
    ("User.Read.All", 1002012, "invalid_scope"),
    ("https://graph.microsoft.com/User.Read.All", 1002012, "invalid_scope"),
    ("https://management.azure.com/.default", 500011, "invalid_resource"),
])
def test_wrong_scope_is_refused(world: World, scope: str, code: int, error: str) -> None:
    result = msal_app(world, world.full.client_id, world.full.secret) \
        .acquire_token_for_client([scope])
    assert result["error"] == error
    assert result["error_codes"] == [code]


def test_azure_identity_secret_credential_gets_a_token(world: World) -> None:
    credential = ClientSecretCredential(
        world.contoso, world.full.client_id, world.full.secret or "",
        authority=world.server.base_url, disable_instance_discovery=True,
        connection_verify=world.ca)
    token = credential.get_token(GRAPH_DEFAULT[0])
    assert claims(token.token)["appid"] == world.full.client_id
    assert token.expires_on == pytest.approx(world.clock.now() + 3599, abs=5)


def test_azure_identity_certificate_credential_gets_a_token(world: World) -> None:
    cert = world.certified.certificate
    assert cert is not None
    credential = CertificateCredential(
        world.contoso, world.certified.client_id,
        certificate_data=cert.private_key_pem + cert.certificate_pem,
        authority=world.server.base_url, disable_instance_discovery=True,
        connection_verify=world.ca)
    token = credential.get_token(GRAPH_DEFAULT[0])
    assert claims(token.token)["appidacr"] == "2"


def test_azure_identity_reports_wrong_secret(world: World) -> None:
    credential = ClientSecretCredential(
        world.contoso, world.full.client_id, "not-the-secret-value",
        authority=world.server.base_url, disable_instance_discovery=True,
        connection_verify=world.ca)
    with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
        credential.get_token(GRAPH_DEFAULT[0])
