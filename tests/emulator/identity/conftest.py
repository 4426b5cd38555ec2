"""An identity platform served over HTTPS on loopback, with two tenants and a few apps."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from graph_emulator.clock import Clock, iso
from graph_emulator.identity import (
    BACKUP_READ_PERMISSIONS,
    PRODUCT_PERMISSIONS,
    AppRegistration,
    AuthError,
    IdentityService,
    TlsMaterial,
    ensure_tls_files,
    identity_routes,
    permission_denied,
)
from graph_emulator.identity.certs import AppCertificate, new_app_certificate
from graph_emulator.identity.tokens import SigningKey, TokenIssuer
from graph_emulator.protocol import GraphError
from tests.support.https_server import RunningServer, serve_https


@dataclass
class Party:
    """An app registration and the credentials a client holds for it."""

    app: AppRegistration
    secret: str | None = None
    certificate: AppCertificate | None = None

    @property
    def client_id(self) -> str:
        return self.app.client_id


@dataclass
class World:
    """A running identity platform and what the tests know about it."""

    server: RunningServer
    service: IdentityService
    clock: Clock
    contoso: str
    fabrikam: str
    full: Party
    backup: Party
    certified: Party

    def authority(self, tenant: str | None = None) -> str:
        return f"{self.server.base_url}/{tenant or self.contoso}"

    def token_url(self, tenant: str | None = None) -> str:
        return self.authority(tenant) + "/oauth2/v2.0/token"

    @property
    def ca(self) -> str:
        return str(self.server.ca_bundle)


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsMaterial:
    return ensure_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture(scope="session")
def app_certificate() -> AppCertificate:
    return new_app_certificate("backup-daemon")


def protected_users(service: IdentityService) -> Route:
    """A stand-in Graph endpoint: reading needs User.Read.All, writing User.ReadWrite.All."""

    async def users(request: Request) -> Response:
        required = "User.Read.All" if request.method == "GET" else "User.ReadWrite.All"
        try:
            principal = service.authenticate(request.headers.get("authorization"),
                                             request.query_params.get("tenant"))
            if not {required, "User.ReadWrite.All"} & principal.roles:
                raise permission_denied()
        except GraphError as error:
            body = error.body(date=iso(service.clock.now()), request_id="req-1",
                              client_request_id=request.headers.get("client-request-id", "c-1"))
            headers = error.headers if isinstance(error, AuthError) else {}
            return JSONResponse(body, status_code=error.status, headers=headers)
        return JSONResponse({"value": [], "appid": principal.client_id})

    return Route("/v1.0/users", users, methods=["GET", "POST"])


@pytest.fixture
def world(tls: TlsMaterial, signing_key: SigningKey,
          app_certificate: AppCertificate) -> Iterator[World]:
    clock = Clock()
    service = IdentityService(clock, issuer=TokenIssuer(clock, key=signing_key))
    registry = service.registry
    contoso = registry.add_tenant("contoso", domains=["contoso.com"]).tenant_id
    fabrikam = registry.add_tenant("fabrikam").tenant_id
    full = registry.add_app(contoso, "Entra Backup", PRODUCT_PERMISSIONS)
    backup = registry.add_app(contoso, "Entra Backup (read-only)", BACKUP_READ_PERMISSIONS)
    certified = registry.add_app(contoso, "Entra Backup (certificate)", BACKUP_READ_PERMISSIONS)
    registry.add_certificate(certified, app_certificate.certificate_pem)
    parties = (Party(full, registry.add_secret(full)), Party(backup, registry.add_secret(backup)),
               Party(certified, certificate=app_certificate))
    app = Starlette(routes=[*identity_routes(service), protected_users(service)])
    with serve_https(app, tls) as server:
        yield World(server, service, clock, contoso, fabrikam, *parties)




@pytest.fixture
def http(world: World) -> Iterator[httpx.Client]:
    """An HTTPS client that trusts only the emulator's CA."""
    context = ssl.create_default_context(cafile=world.ca)
    with httpx.Client(base_url=world.server.base_url, verify=context) as client:
        yield client


def secret_token(http: httpx.Client, world: World, party: Party) -> str:
    """An access token for ``party`` obtained with its secret."""
    response = http.post(f"/{party.app.tenant_id}/oauth2/v2.0/token", data={
        "grant_type": "client_credentials", "client_id": party.client_id,
        "client_secret": party.secret or "", "scope": "https://graph.microsoft.com/.default"})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])
