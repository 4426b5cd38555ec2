"""Delta rounds (https://learn.microsoft.com/graph/delta-query-overview) and their merge.

A round starts from a saved deltaLink (replayed exactly: it encodes the ``$select``) or
from scratch, follows every nextLink, and ends with a new deltaLink. Graph promises no
order and may repeat an object in one round, and splits a large group's ``members@delta``
over several pages, so pages are merged per object id: later properties overwrite earlier
ones, ``<relation>@delta`` slices are unioned per member (a member's later entry, such as
its removal, wins), and ``@removed`` records the reason (``changed``: soft-deleted and
restorable; ``deleted``: gone for good). A token Graph no longer accepts (``410 Gone`` or
``syncStateNotFound``) raises :class:`DeltaTokenExpired`; the caller runs a full resync.

The merge holds one round's changes in memory: the changed objects, not the whole tenant,
except in the first round, which the caller may run as a plain enumeration instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from entra_backup.graph.errors import ServiceError
from entra_backup.graph.pager import iterate_pages
from entra_backup.graph.transport import GraphTransport

DELTA_ANNOTATION = "@delta"
REMOVED = "@removed"
# Directory delta tokens last 7 days; resync a little before Graph would refuse them.
TOKEN_MAX_AGE_SECONDS = 6.5 * 86400


@dataclass
class DeltaChanges:
    """The merged result of one delta round."""

    changed: dict[str, dict[str, Any]]
    removed: dict[str, str]
    delta_link: str
    pages: int
    replays: int


@dataclass
class DeltaMerger:
    """Merges delta items idempotently and in any order; see the module docstring."""

    _changed: dict[str, dict[str, Any]] = field(default_factory=dict)
    _links: dict[str, dict[str, dict[str, dict[str, Any]]]] = field(default_factory=dict)
    _removed: dict[str, str] = field(default_factory=dict)
    items: int = 0
    replays: int = 0

    def add(self, item: dict[str, Any]) -> None:
        """Merge one object of a delta page."""
        object_id = item.get("id")
        if not isinstance(object_id, str):
            return
        self.items += 1
        if object_id in self._changed or object_id in self._removed:
            self.replays += 1
        removal = item.get(REMOVED)
        if isinstance(removal, dict):
            self._changed.pop(object_id, None)
            self._links.pop(object_id, None)
            self._removed[object_id] = str(removal.get("reason", "deleted"))
            return
        self._removed.pop(object_id, None)
        merged = self._changed.setdefault(object_id, {})
        for name, value in item.items():
            if name.endswith(DELTA_ANNOTATION) and isinstance(value, list):
                slices = self._links.setdefault(object_id, {}).setdefault(name, {})
                for entry in value:
                    if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                        slices[entry["id"]] = entry
            else:
                merged[name] = value

    def add_all(self, items: Iterable[dict[str, Any]]) -> None:
        """Merge every object of a page."""
        for item in items:
            self.add(item)

    def changed(self) -> dict[str, dict[str, Any]]:
        """Merged objects, each with its ``<relation>@delta`` lists rebuilt from the slices."""
        result: dict[str, dict[str, Any]] = {}
        for object_id, properties in self._changed.items():
            merged = dict(properties)
            for name, entries in self._links.get(object_id, {}).items():
                merged[name] = list(entries.values())
            result[object_id] = merged
        return result

    def removed(self) -> dict[str, str]:
        """Removed object ids with Graph's reason (``changed`` or ``deleted``)."""
        return dict(self._removed)


def apply_link_delta(current: Iterable[str], entries: Iterable[dict[str, Any]]) -> set[str]:
    """Member ids after applying a ``<relation>@delta`` list to the previous member ids."""
    members = set(current)
    for entry in entries:
        member_id = entry.get("id")
        if not isinstance(member_id, str):
            continue
        if isinstance(entry.get(REMOVED), dict):
            members.discard(member_id)
        else:
            members.add(member_id)
    return members


def is_token_stale(saved_at: float, now: float) -> bool:
    """Whether a deltaLink saved at ``saved_at`` is too old to replay safely."""
    return now - saved_at >= TOKEN_MAX_AGE_SECONDS


async def delta_round(transport: GraphTransport, path: str, *,
                      select: Sequence[str] | None = None, delta_link: str | None = None,
                      minimal: bool = False, headers: dict[str, str] | None = None,
                      permission: str | None = None) -> DeltaChanges:
    """Run one delta round of the collection ``path`` (such as ``users`` or ``groups``).

    With ``delta_link`` the round replays it exactly; otherwise it starts from scratch with
    ``$select``. ``minimal`` asks for only the changed properties (``Prefer:
    return=minimal``), which applies to rounds started from a deltaLink.
    """
    start = delta_link or (path if path.rstrip("/").endswith("/delta") else f"{path}/delta")
    params = {"$select": ",".join(select)} if select and not delta_link else None
    sent = dict(headers or {})
    if minimal and delta_link:
        sent["Prefer"] = "return=minimal"
    merger = DeltaMerger()
    pages = 0
    final: str | None = None
    async for page in iterate_pages(transport, start, params, sent or None, permission):
        pages += 1
        merger.add_all(page.items)
        final = page.delta_link
    if final is None:
        raise ServiceError(f"The delta round of {path} ended without a deltaLink.")
    return DeltaChanges(merger.changed(), merger.removed(), final, pages, merger.replays)
