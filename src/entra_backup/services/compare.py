"""Comparing backups: one object or a whole tenant between two snapshots, or against the
live tenant, attributes and relationships; and which snapshots hold a different version.

Snapshot-to-snapshot comparisons ask the catalog which objects changed, then diff only
those documents. A comparison with the live tenant reads it with the backup engine
(``services/live_tenant.py``), so "live" means exactly what a backup would store.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from entra_backup.catalog import Catalog
from entra_backup.domain.diff import ObjectDiff, count_changes, diff_documents
from entra_backup.domain.object_types import names
from entra_backup.graph.client import GraphClient
from entra_backup.services.browse import version_json
from entra_backup.services.live_tenant import read_live_tenant
from entra_backup.services.related import names_of
from entra_backup.store.errors import ObjectNotFound
from entra_backup.store.repository import Repository
from entra_backup.store.snapshot import Snapshot

_KNOWN = frozenset(names())
_EDGE_TARGETS = ("users", "groups", "servicePrincipals", "devices", "applications")
"""Types a member, owner or manager edge can point at, most common first."""
Document = dict[str, Any]


@dataclass
class TenantDiff:
    """The objects that differ between two points in time, with per-type counts."""

    before: str
    after: str
    diffs: list[ObjectDiff] = field(default_factory=list)
    names: dict[str, str | None] = field(default_factory=dict)
    """Display names of the objects the changed edges point at, by id."""

    def to_json(self) -> dict[str, Any]:
        """As ``diff --json`` prints it."""
        return {"before": self.before, "after": self.after,
                "counts": count_changes(self.diffs),
                "objects": [d.to_json() for d in self.diffs], "names": self.names}


def edge_ids(diffs: list[ObjectDiff]) -> list[str]:
    """The ids of every object a changed relationship edge points at."""
    found: list[str] = []
    for diff in diffs:
        for change in diff.relationships:
            sides = [*change.added, *change.removed,
                     *(edge for pair in change.changed for edge in pair)]
            found.extend(edge["id"] for edge in sides if isinstance(edge.get("id"), str))
    return found


def name_edges(catalog: Catalog, diffs: list[ObjectDiff],
               snapshot_ids: list[str]) -> dict[str, str | None]:
    """Display names of the changed edges' targets, from the first snapshot holding each
    (the later one first: a removed member may be gone from it, not from the earlier)."""
    return names_of(catalog, snapshot_ids, edge_ids(diffs))


def _document(repo: Repository, snapshot: Snapshot, type_name: str,
              object_id: str) -> Document | None:
    try:
        return repo.get(snapshot, type_name, object_id)
    except ObjectNotFound:
        return None


def diff_snapshots(repo: Repository, catalog: Catalog, before: Snapshot, after: Snapshot,
                   type_name: str | None = None) -> TenantDiff:
    """Every object added, removed or modified from ``before`` to ``after``."""
    result = TenantDiff(before.id, after.id)
    for change in catalog.changed_between(before.id, after.id):
        if type_name is not None and change.type != type_name:
            continue
        old = _document(repo, before, change.type, change.object_id)
        new = _document(repo, after, change.type, change.object_id)
        diff = diff_documents(change.type, change.object_id, old, new)
        if diff.changed:
            result.diffs.append(diff)
    result.names = name_edges(catalog, result.diffs, [after.id, before.id])
    return result


def find_type(repo: Repository, snapshot: Snapshot, object_id: str) -> str:
    """The type of the object in the snapshot, or ObjectNotFound."""
    for type_name, entry in sorted(snapshot.types.items()):
        if type_name in _KNOWN and entry.manifest is not None and _document(
                repo, snapshot, type_name, object_id) is not None:
            return type_name
    raise ObjectNotFound(f"snapshot {snapshot.short_id} holds no object {object_id!r}")


def diff_object(repo: Repository, before: Snapshot, after: Snapshot,
                object_id: str) -> ObjectDiff:
    """One object between two snapshots (either may lack it: added or removed)."""
    try:
        type_name = find_type(repo, before, object_id)
    except ObjectNotFound:
        type_name = find_type(repo, after, object_id)
    return diff_documents(type_name, object_id, _document(repo, before, type_name, object_id),
                          _document(repo, after, type_name, object_id))


def documents_of(repo: Repository, before: Snapshot, after: Snapshot,
                 object_id: str) -> dict[str, Document | None]:
    """The object's whole document in each snapshot (None where it is absent)."""
    try:
        type_name = find_type(repo, before, object_id)
    except ObjectNotFound:
        type_name = find_type(repo, after, object_id)
    return {"before": _document(repo, before, type_name, object_id),
            "after": _document(repo, after, type_name, object_id)}


async def diff_live(client: GraphClient, repo: Repository, before: Snapshot,
                    object_id: str | None = None, type_name: str | None = None, *,
                    catalog: Catalog | None = None) -> TenantDiff:
    """A snapshot against the live tenant (one object, one type, or every type it holds).

    With a catalog, the changed edges' targets are named from the snapshot, and those it
    does not hold (added live) from the live documents just read.
    """
    if object_id is not None:
        type_name = find_type(repo, before, object_id)
    types = (type_name,) if type_name else tuple(n for n in before.types if n in _KNOWN)
    live_repo, live = await read_live_tenant(client, before, types)
    result = TenantDiff(before.id, "live")
    for name in sorted(types):
        if object_id is not None:
            diff = diff_documents(name, object_id, _document(repo, before, name, object_id),
                                  _document(live_repo, live, name, object_id))
            result.diffs.append(diff)
            continue
        for diff in _diff_streams(name, _stream(repo, before, name),
                                  _stream(live_repo, live, name)):
            result.diffs.append(diff)
    if catalog is not None:
        result.names = name_edges(catalog, result.diffs, [before.id])
        result.names.update(_live_names(live_repo, live, edge_ids(result.diffs),
                                        result.names))
    return result


def _live_names(live_repo: Repository, live: Snapshot, ids: list[str],
                known: dict[str, str | None]) -> dict[str, str | None]:
    """Names of objects only the live tenant holds, by manifest look-up per type."""
    found: dict[str, str | None] = {}
    for object_id in sorted(set(ids) - set(known)):
        for name in _EDGE_TARGETS:
            document = (_document(live_repo, live, name, object_id)
                        if name in live.types else None)
            if document is not None:
                found[object_id] = document.get("displayName")
                break
    return found


def _stream(repo: Repository, snapshot: Snapshot, type_name: str
            ) -> Iterator[tuple[str, Document]]:
    entry = snapshot.types.get(type_name)
    if entry is None or entry.manifest is None:
        return iter(())
    return repo.objects(snapshot, type_name)


def _diff_streams(type_name: str, old: Iterator[tuple[str, Document]],
                  new: Iterator[tuple[str, Document]]) -> Iterator[ObjectDiff]:
    """Merge two id-ordered streams and diff each object whose content differs."""
    tagged = heapq.merge(((i, 0, d) for i, d in old), ((i, 1, d) for i, d in new),
                         key=lambda item: (item[0], item[1]))
    pending: tuple[str, int, Document] | None = None
    for item in tagged:
        if pending is not None and pending[0] == item[0]:
            diff = diff_documents(type_name, item[0], pending[2], item[2])
            pending = None
        elif pending is not None:
            diff = _one_sided(type_name, pending)
            pending = item
        else:
            pending = item
            continue
        if diff.changed:
            yield diff
    if pending is not None:
        yield _one_sided(type_name, pending)


def _one_sided(type_name: str, item: tuple[str, int, Document]) -> ObjectDiff:
    object_id, side, document = item
    return diff_documents(type_name, object_id, None if side else document,
                          document if side else None)


def comparable_versions(catalog: Catalog, tenant: str, object_id: str,
                        reference: Snapshot) -> list[dict[str, Any]]:
    """The object's versions that differ from the one current in ``reference``."""
    timeline = catalog.timeline(object_id, tenant)
    if not timeline:
        raise ObjectNotFound(f"no backup of {tenant!r} holds an object {object_id!r}")
    order = catalog.snapshot_ids(tenant)
    position = {snapshot_id: index for index, snapshot_id in enumerate(order)}
    at = position.get(reference.id, -1)

    def current_at(row: Any) -> bool:
        last = len(order) if row.last_snapshot is None else position[row.last_snapshot]
        return position[row.first_snapshot] <= at <= last

    mine = next((row.version_hash for row in timeline if current_at(row)), None)
    return [version_json(row) for row in timeline if row.version_hash != mine]
