"""OpenID discovery and the JWKS, as MSAL and token validators read them."""

from __future__ import annotations

import httpx
import jwt

from tests.emulator.identity.conftest import World, secret_token


def test_document_points_every_endpoint_at_the_emulator(http: httpx.Client,
                                                         world: World) -> None:
    response = http.get(f"/{world.contoso}/v2.0/.well-known/openid-configuration")
    assert response.status_code == 200
    document = response.json()
    base = f"{world.server.base_url}/{world.contoso}"
    assert document["issuer"] == f"{base}/v2.0"
    assert document["token_endpoint"] == f"{base}/oauth2/v2.0/token"
    assert document["jwks_uri"] == f"{base}/discovery/v2.0/keys"
    assert document["authorization_endpoint"] == f"{base}/oauth2/v2.0/authorize"
    assert "private_key_jwt" in document["token_endpoint_auth_methods_supported"]


def test_domain_addressed_document_is_written_with_the_tenant_id(http: httpx.Client,
                                                                 world: World) -> None:
    document = http.get("/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration").json()
    assert document["token_endpoint"] == world.token_url()


def test_unknown_tenant_is_invalid_tenant_90002(http: httpx.Client, world: World) -> None:
    response = http.get("/nowhere.example/v2.0/.well-known/openid-configuration")
    assert response.status_code == 400
    body = response.json()
    assert (body["error"], body["error_codes"]) == ("invalid_tenant", [90002])


def test_published_key_verifies_issued_tokens(http: httpx.Client, world: World) -> None:
    token = secret_token(http, world, world.full)
    keys = http.get(f"/{world.contoso}/discovery/v2.0/keys").json()["keys"]
    kid = jwt.get_unverified_header(token)["kid"]
    (jwk,) = [k for k in keys if k["kid"] == kid]
    assert jwk["x5t"] == kid
    claims = jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=["RS256"],
                        audience="https://graph.microsoft.com",
                        issuer=f"https://sts.windows.net/{world.contoso}/")
    assert claims["tid"] == world.contoso
