"""The IdentityService interface the emulator runtime and Graph pipeline use."""

from __future__ import annotations

import pytest

from graph_emulator.clock import Clock
from graph_emulator.emulator import Emulator
from graph_emulator.identity import (
    BACKUP_READ_PERMISSIONS,
    PRODUCT_PERMISSIONS,
    AuthError,
    IdentityService,
    RegistryError,
    TokenFailure,
)
from graph_emulator.identity.certs import AppCertificate
from graph_emulator.identity.tokens import CredentialKind, SigningKey, TokenIssuer
from graph_emulator.protocol import GraphRequest
from graph_emulator.routes import build_router
from graph_emulator.tenant import Tenant

TENANT = "0b1c2d3e-0000-4000-8000-000000000001"
FORM = {"grant_type": "client_credentials", "scope": "https://graph.microsoft.com/.default"}


@pytest.fixture
def service(signing_key: SigningKey) -> IdentityService:
    clock = Clock(frozen=True)
    identity = IdentityService(clock, issuer=TokenIssuer(clock, key=signing_key))
    identity.add_tenant(TENANT, "contoso.onmicrosoft.com")
    return identity


def token_for(service: IdentityService, client_id: str, secret: str) -> str:
    status, body = service.token(TENANT, {**FORM, "client_id": client_id,
                                          "client_secret": secret}, base_url="https://x")
    assert status == 200, body
    return str(body["access_token"])


def test_created_app_authenticates_with_its_secret(service: IdentityService) -> None:
    client_id, secret = service.create_app(TENANT, "demo", PRODUCT_PERMISSIONS)
    principal = service.authenticate(f"Bearer {token_for(service, client_id, secret)}")
    assert (principal.tenant_id, principal.client_id) == (TENANT, client_id)
    assert principal.roles == PRODUCT_PERMISSIONS


def test_created_app_can_hold_a_certificate(service: IdentityService,
                                            app_certificate: AppCertificate) -> None:
    client_id, _ = service.create_app(TENANT, "cert", (),
                                      certificate_pem=app_certificate.certificate_pem)
    app = service.registry.app(TENANT, client_id)
    assert app is not None and len(app.certificates) == 1


def test_tenant_needs_an_initial_domain(service: IdentityService) -> None:
    with pytest.raises(RegistryError, match=r"onmicrosoft\.com"):
        service.add_tenant("0b1c2d3e-0000-4000-8000-000000000002", "fabrikam.com")


def test_state_round_trip_keeps_apps_and_issued_tokens(service: IdentityService) -> None:
    client_id, secret = service.create_app(TENANT, "demo", BACKUP_READ_PERMISSIONS)
    token = token_for(service, client_id, secret)
    state = service.export_state()
    service.create_app(TENANT, "later", ())
    service.import_state(state)
    assert service.authenticate(f"Bearer {token}").client_id == client_id
    assert len(list(service.registry.apps(TENANT))) == 1
    assert token_for(service, client_id, secret)


@pytest.mark.parametrize(("header", "failure"), [
    (None, TokenFailure.MISSING),
    ("Bearer", TokenFailure.MISSING),
    ("Basic dXNlcjpwYXNz", TokenFailure.MISSING),
    ("Bearer a.b.c", TokenFailure.MALFORMED),
])
def test_authenticate_raises_graph_401(service: IdentityService, header: str | None,
                                       failure: TokenFailure) -> None:
    with pytest.raises(AuthError) as caught:
        service.authenticate(header)
    assert (caught.value.status, caught.value.code) == (401, "InvalidAuthenticationToken")
    assert caught.value.failure is failure
    body = caught.value.body(date="d", request_id="r", client_request_id="c")
    assert body["error"]["innerError"] == {"date": "d", "request-id": "r",
                                           "client-request-id": "c"}


def test_graph_pipeline_authenticates_and_authorises_with_the_service(
        service: IdentityService) -> None:
    emulator = Emulator(service.clock, service, build_router())
    emulator.add_tenant(Tenant(TENANT, "contoso"))
    reader_id, reader_secret = service.create_app(TENANT, "reader", {"User.Read.All"})
    app = service.registry.app(TENANT, reader_id)
    assert app is not None
    earlier = service.issuer.issue(app, CredentialKind.SECRET)
    service.registry.revoke(app, {"User.Read.All"})
    stripped = token_for(service, reader_id, reader_secret)

    def get(token: str | None) -> int:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        request = GraphRequest("GET", "/users", {}, headers, b"", "https://x/v1.0")
        return emulator.dispatch(request).status

    assert get(earlier.access_token) == 200
    assert get(stripped) == 403
    assert get(None) == 401
