"""Reading back what was backed up: snapshots of a tenant, a snapshot's objects, one object
with its relationships and version timeline. The repository answers what a snapshot holds;
the catalog answers where an object is and how it changed over time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from entra_backup.catalog import Catalog, VersionRow
from entra_backup.domain.documents import relationship_names
from entra_backup.domain.errors import UsageError
from entra_backup.domain.object_types import by_name, names
from entra_backup.store.errors import ObjectNotFound
from entra_backup.store.repository import Repository
from entra_backup.store.snapshot import Snapshot, TypeStatus

_KNOWN = frozenset(names())


def snapshot_json(snapshot: Snapshot) -> dict[str, Any]:
    """A snapshot as listings show it; ``partial`` when a type failed or was skipped."""
    # "lost" appears only on a type 'repair snapshots' removed objects from.
    types = {name: {"status": entry.status.value, "count": entry.count,
                    "message": entry.message} | ({"lost": list(entry.lost)} if entry.lost else {})
             for name, entry in sorted(snapshot.types.items()) if name in _KNOWN}
    return {
        "id": snapshot.id, "short_id": snapshot.short_id, "tenant": snapshot.tenant,
        "time": snapshot.time.isoformat(), "partial": is_partial(snapshot),
        "objects": sum(entry["count"] for entry in types.values()), "types": types,
        "lost": sum(len(entry.lost) for entry in snapshot.types.values()),
    }


def is_partial(snapshot: Snapshot) -> bool:
    """Whether some type of the snapshot did not back up completely."""
    return any((entry.status is not TypeStatus.OK or entry.lost)
               for name, entry in snapshot.types.items() if name in _KNOWN)


def resolve_snapshot(repo: Repository, tenant: str, reference: str) -> Snapshot:
    """A snapshot of the tenant by id, unique prefix or ``latest``."""
    return repo.load_snapshot(reference, tenant)


def list_objects(repo: Repository, snapshot: Snapshot,
                 type_name: str | None = None) -> Iterator[dict[str, Any]]:
    """One line per object of the snapshot (of one type if given), by type and id."""
    if type_name is not None:
        by_name(type_name)
    for name, entry in sorted(snapshot.types.items()):
        if name not in _KNOWN or (type_name and name != type_name) or entry.manifest is None:
            continue
        for object_id, document in repo.objects(snapshot, name):
            yield {"type": name, "id": object_id, "displayName": document.get("displayName"),
                   "userPrincipalName": document.get("userPrincipalName"),
                   "appId": document.get("appId")}


@dataclass(frozen=True)
class ObjectView:
    """An object at a snapshot: its properties, relationships and every version."""

    type: str
    id: str
    snapshot: Snapshot
    document: dict[str, Any]
    timeline: list[VersionRow]

    def to_json(self) -> dict[str, Any]:
        """The view as ``show --json`` prints it."""
        relations = relationship_names(by_name(self.type))
        return {
            "type": self.type, "id": self.id, "snapshot": self.snapshot.id,
            "time": self.snapshot.time.isoformat(),
            "properties": {k: v for k, v in self.document.items() if k not in relations},
            "licenses": self.document.get("assignedLicenses"),
            "relationships": {k: v for k, v in self.document.items() if k in relations},
            "timeline": [version_json(row) for row in self.timeline],
        }


def version_json(row: VersionRow) -> dict[str, Any]:
    """One version of an object, with the snapshots in which it is current."""
    return {"type": row.type, "id": row.object_id, "version": row.version_hash[:12],
            "first_snapshot": row.first_snapshot, "last_snapshot": row.last_snapshot,
            "deleted": row.deleted,
            "deleted_at": None if row.deleted_at is None else row.deleted_at.isoformat(),
            "displayName": row.display_name, "userPrincipalName": row.upn,
            "mail": row.mail, "appId": row.app_id}


def show_object(repo: Repository, catalog: Catalog, tenant: str, object_id: str,
                reference: str | None = None) -> ObjectView:
    """An object at a snapshot; without one, at the newest snapshot that holds it."""
    timeline = catalog.timeline(object_id, tenant)
    if not timeline:
        raise ObjectNotFound(f"no backup of tenant {tenant!r} holds an object {object_id!r}")
    type_name = timeline[-1].type
    if reference is None:
        last = timeline[-1].last_snapshot
        snapshot = repo.load_snapshot(last, tenant) if last else repo.load_snapshot(
            "latest", tenant)
    else:
        snapshot = repo.load_snapshot(reference, tenant)
    try:
        document = repo.get(snapshot, type_name, object_id)
    except ObjectNotFound:
        raise ObjectNotFound(f"snapshot {snapshot.short_id} does not hold {object_id!r} "
                             f"(the {type_name} object exists in other snapshots; see "
                             "'entra-backup show' without --snapshot)") from None
    return ObjectView(type_name, object_id, snapshot, document, timeline)


def check_type(type_name: str | None) -> None:
    """A UsageError for an unknown type name."""
    if type_name is not None and type_name not in _KNOWN:
        raise UsageError(f"unknown object type {type_name!r}; known types: "
                         f"{', '.join(sorted(_KNOWN))}")
