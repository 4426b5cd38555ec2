"""What every step of one restore run shares: the tenant, the snapshot, the journal, the
id map and the run's options; and the outcome a step returns."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from entra_backup.domain.restore.plan import CaState, PlanItem
from entra_backup.graph.client import GraphClient
from entra_backup.graph.errors import GraphClientError
from entra_backup.services.restore import requests
from entra_backup.services.restore.ids import IdMap
from entra_backup.services.restore.journal import Journal
from entra_backup.services.restore.requests import Write
from entra_backup.store.repository import Repository
from entra_backup.store.snapshot import Snapshot

T = TypeVar("T")


@dataclass
class Outcome:
    """How one plan item ended in this run."""

    outcome: str
    reason: str = ""
    new_id: str | None = None
    old_app_id: str | None = None
    new_app_id: str | None = None
    error: GraphClientError | None = None
    notes: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)


@dataclass
class RunContext:
    """One restore run against one tenant."""

    client: GraphClient
    repo: Repository
    snapshot: Snapshot
    journal: Journal
    default_password: str = field(repr=False)
    ca_state: CaState
    send_invitations: bool = False
    """Whether re-invited guests get Graph's invitation mail (off: the report has the
    redeem link)."""
    ids: IdMap = field(default_factory=IdMap)
    bound: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    """(group id, relationship) -> edges its re-creation binds, so its edges steps skip
    them (``domain.restore.plan.bound_at_create``)."""

    @property
    def graph_url(self) -> str:
        return self.client.transport.graph_url

    def document(self, item: PlanItem) -> dict[str, Any]:
        """The item's object as the snapshot holds it."""
        return self.repo.get(self.snapshot, item.type, item.object_id)

    async def send(self, write: Write) -> dict[str, Any]:
        return await requests.send(self.client, write)

    async def lagging(self, send: Callable[[], Awaitable[T]], ids: Iterable[str]) -> T:
        """``send()``, retried through replication lag of objects created in this run."""
        return await requests.lagging(self.client, self.ids.created, send, ids)
