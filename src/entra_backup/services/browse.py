"""Reading back what was backed up: snapshots of a tenant, a snapshot's objects, one object
with its relationships and version timeline. The repository answers what a snapshot holds;
the catalog answers where an object is and how it changed over time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from entra_backup.catalog import VersionRow
from entra_backup.domain.documents import relationship_names
from entra_backup.domain.errors import UsageError
from entra_backup.domain.object_types import by_name, names
from entra_backup.services import related
from entra_backup.services.object_lookup import find_object
from entra_backup.services.snapshot_choice import (
    is_point_in_time,
    parse_point_in_time,
    snapshot_at,
)
from entra_backup.store.errors import ObjectNotFound
from entra_backup.store.repository import Repository
from entra_backup.store.snapshot import Snapshot, TypeStatus

if TYPE_CHECKING:
    from entra_backup.catalog import Catalog

_KNOWN = frozenset(names())
MEMBER_TYPES = frozenset({"users", "groups", "servicePrincipals", "devices"})
"""Types whose objects can be members of groups, AUs and roles, so ``show`` lists them."""


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


def resolve_snapshot(repo: Repository, tenant: str, reference: str | None,
                     at: str | None = None) -> Snapshot:
    """A snapshot of the tenant by id, unique prefix, ``latest`` or a point in time.

    ``at`` (``--at``) is a point in time given apart from the reference; giving both is a
    usage error. A point in time means the last snapshot at or before it.
    """
    if at is not None:
        if reference is not None:
            raise UsageError(f"give a snapshot or --at, not both ({reference!r} and {at!r})")
        reference = at
        if not is_point_in_time(at):
            raise UsageError(f"--at {at!r} is not a date-time (2026-11-20 or "
                             "2026-11-20T10:00)")
    if reference is None:
        raise UsageError("give a snapshot (id, prefix, 'latest' or a date-time) or --at")
    if is_point_in_time(reference):
        return snapshot_at(repo, tenant, parse_point_in_time(reference))
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
    """An object at a snapshot: its properties, relationships and every version, with what
    the snapshot says around it (memberships, licence names, names of related objects)."""

    type: str
    id: str
    snapshot: Snapshot
    document: dict[str, Any]
    timeline: list[VersionRow]
    names: dict[str, str | None] = field(default_factory=dict)
    memberships: dict[str, Any] = field(default_factory=dict)
    license_names: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The view as ``show --json`` prints it."""
        relations = relationship_names(by_name(self.type))
        return {
            "type": self.type, "id": self.id, "snapshot": self.snapshot.id,
            "time": self.snapshot.time.isoformat(),
            "properties": {k: v for k, v in self.document.items() if k not in relations},
            "licenses": self.document.get("assignedLicenses"),
            "license_names": self.license_names,
            "relationships": {k: v for k, v in self.document.items() if k in relations},
            "names": self.names,
            "memberships": self.memberships,
            "timeline": [version_json(row) for row in self.timeline],
        }


def version_json(row: VersionRow) -> dict[str, Any]:
    """One version of an object, with the snapshots in which it is current."""
    return {"type": row.type, "id": row.object_id, "version": row.version_hash[:12],
            "first_snapshot": row.first_snapshot, "last_snapshot": row.last_snapshot,
            "deleted": row.deleted,
            "deleted_at": None if row.deleted_at is None else row.deleted_at.isoformat(),
            "displayName": row.display_name, "userPrincipalName": row.upn,
            "mail": row.mail, "appId": row.app_id,
            "changed_at": None if row.changed_at is None else row.changed_at.isoformat()}


def show_object(repo: Repository, catalog: Catalog, tenant: str, reference: str, *,
                snapshot: str | None = None, at: str | None = None,
                type_name: str | None = None) -> ObjectView:
    """The object ``reference`` names (id, UPN, mail or appId) at a snapshot; without one,
    at the newest snapshot that holds it."""
    timeline = find_object(catalog, tenant, reference, type_name)
    type_name, object_id = timeline[-1].type, timeline[-1].object_id
    if snapshot is None and at is None:
        last = timeline[-1].last_snapshot
        chosen = repo.load_snapshot(last, tenant) if last else repo.load_snapshot(
            "latest", tenant)
    else:
        chosen = resolve_snapshot(repo, tenant, snapshot, at)
    try:
        document = repo.get(chosen, type_name, object_id)
    except ObjectNotFound:
        raise ObjectNotFound(f"snapshot {chosen.short_id} does not hold {object_id!r} "
                             f"(the {type_name} object exists in other snapshots; see "
                             "'entra-backup show' without --snapshot)") from None
    return _with_context(repo, catalog, ObjectView(type_name, object_id, chosen, document,
                                                   timeline))


def _with_context(repo: Repository, catalog: Catalog, view: ObjectView) -> ObjectView:
    """The view with what its snapshot says around the object."""
    ids = related.relationship_ids(view.document, relationship_names(by_name(view.type)))
    around = (related.memberships(repo, view.snapshot, view.id)
              if view.type in MEMBER_TYPES else {})
    return replace(view, names=related.names_of(catalog, [view.snapshot.id], ids),
                   memberships=around,
                   license_names=related.licence_names(repo, view.snapshot, view.document))


def check_type(type_name: str | None) -> None:
    """A UsageError for an unknown type name."""
    if type_name is not None and type_name not in _KNOWN:
        raise UsageError(f"unknown object type {type_name!r}; known types: "
                         f"{', '.join(sorted(_KNOWN))}")
