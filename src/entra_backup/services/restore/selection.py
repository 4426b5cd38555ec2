"""Which objects a restore covers, and which other types its plan must read live: those
whose objects hold edges to the chosen ones (D16) or name them in properties."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from entra_backup.domain.errors import UsageError
from entra_backup.domain.object_types import (
    TYPES,
    ObjectType,
    RestoreStrategy,
    by_name,
    names,
    restore_order,
)
from entra_backup.services.restore.live_side import DocumentSource, SnapshotDocuments
from entra_backup.services.restore.options import RestoreOptions
from entra_backup.store.repository import Repository
from entra_backup.store.snapshot import Snapshot, TypeStatus

_KNOWN = frozenset(names())


def resolve_selection(repo: Repository, snapshot: Snapshot, options: RestoreOptions
           ) -> tuple[tuple[ObjectType, ...], dict[str, set[str]] | None]:
    """The types (in restore order) and, with ``object_ids``, the ids per type a restore
    covers. Unknown types, types the snapshot lacks and unknown ids are a UsageError."""
    stored = SnapshotDocuments(repo, snapshot)
    if options.types:
        chosen = [by_name(name) for name in dict.fromkeys(options.types)]
        lacking = [t.name for t in chosen if not stored.holds(t.name)]
        if lacking:
            raise UsageError(f"snapshot {snapshot.short_id} holds no copy of "
                             f"{', '.join(lacking)}")
    else:
        chosen = [by_name(name) for name, entry in snapshot.types.items()
                  if name in _KNOWN and entry.status is TypeStatus.OK
                  and entry.manifest is not None]
    if not chosen:
        raise UsageError(f"snapshot {snapshot.short_id} holds no object type completely; "
                         f"name the types to restore with --type")
    if not options.object_ids:
        return restore_order(chosen), None
    found: dict[str, set[str]] = {}
    unknown = []
    for object_id in dict.fromkeys(options.object_ids):
        home = next((t.name for t in chosen if stored.get(t.name, object_id) is not None),
                    None)
        if home is None:
            unknown.append(object_id)
        else:
            found.setdefault(home, set()).add(object_id)
    if unknown:
        among = f" among {', '.join(options.types)}" if options.types else ""
        raise UsageError(f"snapshot {snapshot.short_id} holds no object{among} with the "
                         f"id{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}")
    if options.relationships:
        _add_dependents(stored, found)
    return restore_order(by_name(name) for name in found), found


DEPENDENTS = (("roleAssignments", ("principalId",)),
              ("oauth2PermissionGrants", ("principalId", "clientId")))
"""Types whose objects exist for a principal (its role assignments, the delegated grants
it holds or its app is given): chosen objects bring theirs along (an application brings
its service principal first, and so the service principal's)."""


def _add_dependents(stored: DocumentSource, found: dict[str, set[str]]) -> None:
    """Add to ``found`` the stored service principals of the chosen applications, then
    the role assignments and delegated grants of the chosen objects, so restoring one
    user brings back its roles and consents, and one application its service principal."""
    app_ids = {document.get("appId") for object_id in found.get("applications", ())
               if (document := stored.get("applications", object_id)) is not None}
    if app_ids:
        for object_id, document in stored.objects("servicePrincipals"):
            if document.get("appId") in app_ids:
                found.setdefault("servicePrincipals", set()).add(object_id)
    chosen = {object_id for ids in found.values() for object_id in ids}
    for type_name, properties in DEPENDENTS:
        for object_id, document in stored.objects(type_name):
            if any(document.get(name) in chosen for name in properties):
                found.setdefault(type_name, set()).add(object_id)


def edge_sources(stored: SnapshotDocuments, types: Iterable[ObjectType],
                 object_ids: Mapping[str, set[str]] | None) -> tuple[ObjectType, ...]:
    """The stored types whose objects hold edges to the chosen objects but are not all
    chosen themselves: groups for the memberships of users restored alone, for one.
    Their live side is read too, so that those edges are planned
    (:meth:`_Planner.plan_reverse_edges`)."""
    whole = set() if object_ids is not None else {t.name for t in types}
    return tuple(t for t in TYPES if t.name not in whole and stored.holds(t.name)
                 and t.restore_strategy is not RestoreStrategy.NOT_RESTORABLE
                 and any(r.restorable for r in t.relationships))


REFERENCE_HOLDERS = ("conditionalAccessPolicies",)
"""Types whose writable properties name objects of other types (a policy's include and
exclude lists of users, groups, roles, appIds and named locations)."""


def reference_sources(stored: SnapshotDocuments, types: Iterable[ObjectType],
                      object_ids: Mapping[str, set[str]] | None) -> tuple[ObjectType, ...]:
    """The stored :data:`REFERENCE_HOLDERS` a selection does not cover whole. Their live
    side is read too, so that a partial restore rewrites what they say of the objects it
    re-creates (:meth:`_Planner.note_outside_references`), as a full one does."""
    whole = set() if object_ids is not None else {t.name for t in types}
    return tuple(by_name(name) for name in REFERENCE_HOLDERS
                 if name not in whole and stored.holds(name))


@dataclass(frozen=True)
class Selection:
    """What a restore covers, and which types its plan reads live."""

    types: tuple[ObjectType, ...]
    """The chosen types, in restore order."""
    object_ids: dict[str, set[str]] | None
    """With ``--object``: the chosen ids per type."""
    edge_sources: tuple[ObjectType, ...]
    reference_sources: tuple[ObjectType, ...]

    def read(self) -> list[ObjectType]:
        """Every type the plan reads live, once."""
        found = {t.name: t for t in (*self.types, *self.edge_sources,
                                     *self.reference_sources)}
        return list(found.values())


def select(repo: Repository, snapshot: Snapshot, options: RestoreOptions) -> Selection:
    """The selection of ``options`` (:func:`resolve_selection`) with the other types whose
    objects a partial restore compares (:func:`edge_sources`, :func:`reference_sources`)."""
    types, object_ids = resolve_selection(repo, snapshot, options)
    stored = SnapshotDocuments(repo, snapshot)
    sources = edge_sources(stored, types, object_ids) if options.relationships else ()
    return Selection(types, object_ids, sources,
                     reference_sources(stored, types, object_ids))
