"""Graph calls are authenticated and authorised with the emulator's tokens, end to end."""

from __future__ import annotations

import base64
import json
import uuid

import httpx
import jwt

from graph_emulator.identity.tokens import SigningKey
from tests.emulator.identity.conftest import Party, World, secret_token


def call(http: httpx.Client, token: str | None, method: str = "GET",
         tenant: str | None = None) -> httpx.Response:
    headers = {"client-request-id": "client-123"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    params = {"tenant": tenant} if tenant else {}
    return http.request(method, "/v1.0/users", headers=headers, params=params)


def assert_unauthorized(response: httpx.Response, message: str) -> None:
    assert response.status_code == 401
    error = response.json()["error"]
    assert (error["code"], error["message"]) == ("InvalidAuthenticationToken", message)
    assert set(error["innerError"]) == {"date", "request-id", "client-request-id"}
    assert response.headers["www-authenticate"].startswith('Bearer realm=""')


def test_valid_token_is_served(http: httpx.Client, world: World) -> None:
    response = call(http, secret_token(http, world, world.backup))
    assert response.status_code == 200
    assert response.json()["appid"] == world.backup.client_id


def test_missing_token_is_401_empty(http: httpx.Client, world: World) -> None:
    assert_unauthorized(call(http, None), "Access token is empty.")


def test_garbage_token_is_401_not_well_formed(http: httpx.Client, world: World) -> None:
    response = call(http, "not-a-jwt")
    assert response.status_code == 401
    assert response.json()["error"]["message"].startswith("IDX14100: JWT is not well formed")


def test_expired_token_is_401_after_the_clock_moves(http: httpx.Client, world: World) -> None:
    token = secret_token(http, world, world.full)
    world.clock.advance(3599)
    assert_unauthorized(call(http, token), "Access token has expired or is not yet valid.")


def test_token_with_edited_roles_is_401(http: httpx.Client, world: World) -> None:
    header, payload, signature = secret_token(http, world, world.backup).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["roles"].append("User.ReadWrite.All")
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert_unauthorized(call(http, f"{header}.{forged}.{signature}", "POST"),
                        "Access token validation failure.")


def test_token_from_another_emulator_is_401(http: httpx.Client, world: World) -> None:
    claims = jwt.decode(secret_token(http, world, world.full), options={"verify_signature": False})
    other = SigningKey.generate()
    token = jwt.encode(claims, other.private_key, algorithm="RS256", headers={"kid": other.kid})
    assert_unauthorized(call(http, token), "Access token validation failure.")


def test_token_for_another_resource_is_401_invalid_audience(http: httpx.Client,
                                                            world: World) -> None:
    claims = jwt.decode(secret_token(http, world, world.full), options={"verify_signature": False})
    claims["aud"] = "https://management.azure.com"
    key = world.service.issuer.key
    token = jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid})
    assert_unauthorized(call(http, token), "Access token validation failure. Invalid audience.")


def test_token_for_another_tenant_is_401(http: httpx.Client, world: World) -> None:
    token = secret_token(http, world, world.full)
    assert_unauthorized(call(http, token, tenant=world.fabrikam),
                        "Access token validation failure.")


def test_read_only_app_cannot_write_403(http: httpx.Client, world: World) -> None:
    response = call(http, secret_token(http, world, world.backup), "POST")
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "Authorization_RequestDenied"
    assert error["message"] == "Insufficient privileges to complete the operation."
    assert error["innerError"]["client-request-id"] == "client-123"
    assert {"date", "request-id"} <= set(error["innerError"])


def test_app_with_write_permission_can_write(http: httpx.Client, world: World) -> None:
    assert call(http, secret_token(http, world, world.full), "POST").status_code == 200


def test_revoked_permission_is_missing_from_the_next_token(http: httpx.Client,
                                                           world: World) -> None:
    registry = world.service.registry
    app = registry.add_app(world.contoso, f"partial-{uuid.uuid4()}",
                           {"User.Read.All", "User.ReadWrite.All"})
    secret = registry.add_secret(app)
    party = Party(app, secret)
    assert call(http, secret_token(http, world, party), "POST").status_code == 200
    registry.revoke(app, {"User.ReadWrite.All"})
    assert call(http, secret_token(http, world, party), "POST").status_code == 403
    assert call(http, secret_token(http, world, party)).status_code == 200
