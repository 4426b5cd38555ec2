"""Serving Graph calls in process, for handler tests that do not exercise HTTPS or tokens.

End-to-end tests go through the real HTTPS server and tokens; these helpers let a handler
test focus on one behaviour with a caller whose permissions the test chooses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from graph_emulator.clock import Clock
from graph_emulator.emulator import Emulator
from graph_emulator.model.loader import DirectoryLoader
from graph_emulator.protocol import GraphRequest, GraphResponse
from graph_emulator.routes import build_router
from graph_emulator.tenant import Tenant

TENANT_ID = "0b1c2d3e-0000-4000-8000-000000000001"
CLIENT_ID = "0b1c2d3e-0000-4000-8000-0000000000aa"
ALL_ROLES = frozenset({
    "Directory.ReadWrite.All", "User.ReadWrite.All", "Group.ReadWrite.All",
    "GroupMember.ReadWrite.All", "Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All",
    "RoleManagement.ReadWrite.Directory", "AdministrativeUnit.ReadWrite.All",
    "Device.ReadWrite.All", "DelegatedPermissionGrant.ReadWrite.All", "Policy.Read.All",
    "Policy.ReadWrite.ConditionalAccess", "Policy.ReadWrite.Authorization",
    "Organization.Read.All", "Domain.Read.All",
})


@dataclass
class FixedCaller:
    tenant_id: str = TENANT_ID
    client_id: str = CLIENT_ID
    roles: frozenset[str] = field(default_factory=lambda: ALL_ROLES)


class FixedAuthenticator:
    """Treats every request as coming from one caller; the test sets its roles."""

    def __init__(self) -> None:
        self.caller = FixedCaller()

    def authenticate(self, authorization: str | None) -> FixedCaller:
        return self.caller


class InProcess:
    """An emulator with one tenant, called without HTTP."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.auth = FixedAuthenticator()
        self.emulator = Emulator(clock or Clock(frozen=True), self.auth, build_router())
        self.tenant = self.emulator.add_tenant(Tenant(TENANT_ID, "contoso"))
        self.loader = DirectoryLoader(self.tenant.directory)

    def call(self, method: str, url: str, body: Any = None,
             headers: dict[str, str] | None = None) -> GraphResponse:
        raw = b"" if body is None else orjson.dumps(body)
        request = GraphRequest.from_url(method, url, headers or {}, raw,
                                        "https://graph.example/v1.0")
        return self.emulator.dispatch(request)

    def get(self, url: str, headers: dict[str, str] | None = None) -> Any:
        response = self.call("GET", url, headers=headers)
        assert response.status == 200, response.body
        return response.body
