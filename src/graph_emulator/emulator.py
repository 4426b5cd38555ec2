"""The emulator: tenants, the identity platform, and the pipeline every Graph call takes.

A call is authenticated, routed, authorised against the route's permissions, charged to
the throttling budget, possibly failed by fault injection, then handled. ``$batch``
sends each inner request through the same pipeline.
"""

from __future__ import annotations

import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from graph_emulator.clock import Clock, iso
from graph_emulator.context import Caller, Context
from graph_emulator.protocol import GraphError, GraphRequest, GraphResponse
from graph_emulator.routing import Route, Router
from graph_emulator.tenant import Tenant

T = TypeVar("T")


class Authenticator(Protocol):
    """Turns an ``Authorization`` header into the calling application."""

    def authenticate(self, authorization: str | None) -> Caller: ...


class Gate(Protocol):
    """A stage that may refuse a routed call (throttling, fault injection)."""

    def admit(self, ctx: Context, route: Route) -> dict[str, str]:
        """Return headers to add to the response, or raise GraphError to refuse."""
        ...


@dataclass(slots=True)
class LogRecord:
    """One served Graph call, as the control endpoint reports it."""

    time: float
    tenant_id: str
    client_id: str
    method: str
    path: str
    status: int
    resource_units: int
    in_batch: bool


class Emulator:
    """Holds every tenant and serves Graph calls for them."""

    def __init__(self, clock: Clock, authenticator: Authenticator, router: Router) -> None:
        self.clock = clock
        self.authenticator = authenticator
        self.router = router
        self.tenants: dict[str, Tenant] = {}
        self.gates: list[Gate] = []
        self.log: deque[LogRecord] = deque(maxlen=100_000)
        self.resource_units: dict[tuple[str, str], int] = {}
        self.latency_ms = 0.0
        self._extensions: dict[type[Any], Any] = {}

    def extension(self, kind: type[T]) -> T:
        """Per-emulator state of a handler module (delta settings, write state...).

        Created with ``kind()`` on first use, so modules keep their own state without the
        emulator knowing their types.
        """
        if kind not in self._extensions:
            self._extensions[kind] = kind()
        found: T = self._extensions[kind]
        return found

    def latency_seconds(self) -> float:
        """How long the HTTP layer waits before answering, to mimic a distant service."""
        return self.latency_ms / 1000.0

    def add_tenant(self, tenant: Tenant) -> Tenant:
        self.tenants[tenant.tenant_id] = tenant
        return tenant

    def dispatch(self, request: GraphRequest) -> GraphResponse:
        """Serve one Graph call, turning every GraphError into Graph's error response."""
        request_id = str(uuid.uuid4())
        client_request_id = request.header("client-request-id") or request_id
        caller_ids = ("", "")
        units = 0
        try:
            caller = self.authenticator.authenticate(request.header("Authorization"))
            caller_ids = (caller.tenant_id, caller.client_id)
            response, units = self._serve(request, caller)
        except GraphError as error:
            body = error.body(date=iso(self.clock.now()), request_id=request_id,
                              client_request_id=client_request_id)
            response = GraphResponse(error.status, body, dict(error.headers))
        response.headers.setdefault("request-id", request_id)
        response.headers.setdefault("client-request-id", client_request_id)
        self._record(request, response, caller_ids, units)
        return response

    def _serve(self, request: GraphRequest, caller: Caller) -> tuple[GraphResponse, int]:
        tenant = self.tenants.get(caller.tenant_id)
        if tenant is None:
            raise GraphError(401, "InvalidAuthenticationToken",
                             "Access token validation failure. Invalid audience.")
        route, params = self.router.match(request.method, request.path)
        ctx = Context(request, params, tenant, caller, self)
        ctx.require(*route.permissions)
        extra_headers: dict[str, str] = {}
        for gate in self.gates:
            extra_headers.update(gate.admit(ctx, route))
        response = route.handler(ctx)
        response.headers.update(extra_headers)
        return response, int(extra_headers.get("x-ms-resource-unit", "0") or 0)

    def _record(self, request: GraphRequest, response: GraphResponse,
                caller: tuple[str, str], units: int) -> None:
        self.log.append(LogRecord(self.clock.now(), caller[0], caller[1], request.method,
                                  request.path, response.status, units, request.in_batch))
        if units:
            self.resource_units[caller] = self.resource_units.get(caller, 0) + units

    def describe(self) -> dict[str, Any]:
        """A summary of what the emulator holds, for the control endpoint and the demo."""
        return {
            tid: {kind: t.directory.count(kind) for kind in sorted(t.directory.all_kinds())}
            for tid, t in self.tenants.items()
        }
