"""The v2.0 token endpoint over raw HTTPS: response shapes, AADSTS codes and statuses."""

from __future__ import annotations

import base64
import re
import uuid
from typing import Any

import httpx
import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from graph_emulator.identity.certs import AppCertificate, new_app_certificate
from tests.emulator.identity.conftest import World

SCOPE = "https://graph.microsoft.com/.default"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def post(http: httpx.Client, world: World, form: dict[str, str],
         tenant: str | None = None, **kwargs: Any) -> httpx.Response:
    return http.post(f"/{tenant or world.contoso}/oauth2/v2.0/token", data=form, **kwargs)


def secret_form(world: World, **overrides: str) -> dict[str, str]:
    form = {"grant_type": "client_credentials", "client_id": world.full.client_id,
            "client_secret": world.full.secret or "", "scope": SCOPE}
    form.update(overrides)
    return {k: v for k, v in form.items() if v != "-"}


def assertion_form(world: World, assertion: str) -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_id": world.certified.client_id,
            "client_assertion_type": JWT_BEARER, "client_assertion": assertion, "scope": SCOPE}


def make_assertion(world: World, cert: AppCertificate | None = None, *,
                   header_cert: AppCertificate | None = None, **claims: Any) -> str:
    """A client assertion signed by ``cert``'s key, naming ``header_cert`` in its x5t."""
    signer = cert or world.certified.certificate
    assert signer is not None
    named = header_cert or signer
    sha1 = x509.load_pem_x509_certificate(named.certificate_pem).fingerprint(hashes.SHA1())
    thumbprint = base64.urlsafe_b64encode(sha1).decode()
    now = int(world.clock.now())
    payload = {"aud": world.token_url(), "iss": world.certified.client_id,
               "sub": world.certified.client_id, "jti": str(uuid.uuid4()),
               "nbf": now, "exp": now + claims.pop("expires_in", 600)}
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, signer.private_key_pem, algorithm="RS256",
                      headers={"x5t": thumbprint})


def test_success_body_has_exactly_the_documented_fields(http: httpx.Client, world: World) -> None:
    response = post(http, world, secret_form(world))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token_type", "expires_in", "ext_expires_in", "access_token"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == body["ext_expires_in"] == 3599
    assert response.headers["cache-control"] == "no-store, no-cache"


def test_error_body_is_shaped_like_the_identity_platform(http: httpx.Client, world: World) -> None:
    correlation = str(uuid.uuid4())
    response = post(http, world, secret_form(world, client_secret="wrong-secret-value"),
                    headers={"client-request-id": correlation})
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"error", "error_description", "error_codes", "timestamp", "trace_id",
                         "correlation_id", "error_uri"}
    assert body["correlation_id"] == correlation
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ", body["timestamp"])
    assert body["error_description"].endswith(
        f"\r\nTrace ID: {body['trace_id']}\r\nCorrelation ID: {correlation}\r\n"
        f"Timestamp: {body['timestamp']}")
    assert body["error_uri"] == "https://login.microsoftonline.com/error?code=7000215"


@pytest.mark.parametrize(("overrides", "status", "error", "code"), [
    ({"client_id": "-"}, 400, "invalid_request", 900144),
    ({"scope": "-"}, 400, "invalid_request", 900144),
    ({"grant_type": "-"}, 400, "invalid_request", 900144),
    ({"grant_type": "password"}, 400, "unsupported_grant_type", 70003),
    ({"client_secret": "-"}, 401, "invalid_client", 7000218),
    ({"scope": SCOPE + " offline_access"}, 400, "invalid_scope", 70011),
])
def test_bad_requests_get_the_real_codes(http: httpx.Client, world: World,
                                         overrides: dict[str, str], status: int, error: str,
                                         code: int) -> None:
    response = post(http, world, secret_form(world, **overrides))
    assert response.status_code == status
    assert (response.json()["error"], response.json()["error_codes"]) == (error, [code])


def test_missing_parameter_is_named(http: httpx.Client, world: World) -> None:
    response = post(http, world, secret_form(world, scope="-"))
    assert "must contain the following parameter: 'scope'" in response.json()["error_description"]


def test_unknown_tenant_is_aadsts90002(http: httpx.Client, world: World) -> None:
    response = post(http, world, secret_form(world), tenant="nowhere.onmicrosoft.com")
    assert response.status_code == 400
    body = response.json()
    assert (body["error"], body["error_codes"]) == ("invalid_request", [90002])
    assert "Tenant 'nowhere.onmicrosoft.com' not found" in body["error_description"]


def test_get_on_the_token_endpoint_is_refused(http: httpx.Client, world: World) -> None:
    response = http.get(f"/{world.contoso}/oauth2/v2.0/token")
    assert response.status_code == 400
    assert response.json()["error_codes"] == [900561]


def test_client_secret_basic_is_accepted(http: httpx.Client, world: World) -> None:
    basic = base64.b64encode(f"{world.full.client_id}:{world.full.secret}".encode()).decode()
    form = {"grant_type": "client_credentials", "scope": SCOPE}
    response = post(http, world, form, headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 200, response.text


def test_expired_secret_is_aadsts7000222_and_a_fresh_one_works(http: httpx.Client,
                                                               world: World) -> None:
    registry = world.service.registry
    old = registry.add_secret(world.full.app, end_time=world.clock.now() + 60)
    world.clock.advance(61)
    response = post(http, world, secret_form(world, client_secret=old))
    assert (response.status_code, response.json()["error_codes"]) == (401, [7000222])
    assert post(http, world, secret_form(world)).status_code == 200


def test_valid_assertion_gets_a_token(http: httpx.Client, world: World) -> None:
    response = post(http, world, assertion_form(world, make_assertion(world)))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(("claims", "code"), [
    ({"aud": "https://login.microsoftonline.com/common/oauth2/v2.0/token"}, 700023),
    ({"iss": "00000000-0000-0000-0000-000000000001"}, 700021),
    ({"sub": "00000000-0000-0000-0000-000000000001"}, 700021),
    ({"expires_in": -10}, 700024),
    ({"jti": None}, 50027),
])
def test_bad_assertion_claims_are_refused(http: httpx.Client, world: World,
                                          claims: dict[str, Any], code: int) -> None:
    response = post(http, world, assertion_form(world, make_assertion(world, **claims)))
    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")
    assert response.json()["error_codes"] == [code]


def test_assertion_with_unregistered_certificate_is_aadsts700027(http: httpx.Client,
                                                                 world: World) -> None:
    stranger = new_app_certificate("stranger")
    response = post(http, world, assertion_form(world, make_assertion(world, stranger)))
    assert response.json()["error_codes"] == [700027]
    assert "is not registered on application" in response.json()["error_description"]


def test_assertion_signed_by_another_key_fails_signature_validation(http: httpx.Client,
                                                                    world: World) -> None:
    impostor = new_app_certificate("impostor")
    assertion = make_assertion(world, impostor, header_cert=world.certified.certificate)
    response = post(http, world, assertion_form(world, assertion))
    assert response.json()["error_codes"] == [700027]
    assert "failed signature validation" in response.json()["error_description"]


def test_wrong_assertion_type_is_refused(http: httpx.Client, world: World) -> None:
    form = assertion_form(world, make_assertion(world))
    form["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:saml2-bearer"
    response = post(http, world, form)
    assert (response.status_code, response.json()["error_codes"]) == (400, [90011])
