"""What a Graph handler is given: the request, the caller, the tenant and the emulator."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from graph_emulator.clock import Clock
from graph_emulator.model.directory import Directory
from graph_emulator.protocol import GraphError, GraphRequest
from graph_emulator.tenant import Tenant

if TYPE_CHECKING:
    from graph_emulator.emulator import Emulator


class Caller(Protocol):
    """The authenticated application (the identity side's principal)."""

    @property
    def tenant_id(self) -> str: ...

    @property
    def client_id(self) -> str: ...

    @property
    def roles(self) -> frozenset[str]: ...


@dataclass
class Context:
    """One request being served."""

    request: GraphRequest
    params: dict[str, str]
    tenant: Tenant
    caller: Caller
    emulator: Emulator

    @property
    def directory(self) -> Directory:
        return self.tenant.directory

    @property
    def clock(self) -> Clock:
        return self.emulator.clock

    def require(self, *permissions: str) -> None:
        """Refuse with Graph's 403 unless the caller holds one of ``permissions``."""
        if permissions and not self.caller.roles.intersection(permissions):
            raise GraphError(403, "Authorization_RequestDenied",
                             "Insufficient privileges to complete the operation.")
