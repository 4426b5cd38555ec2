"""The restore planner: a snapshot against the live tenant, as a reviewed list of writes.

:func:`make_plan` reads the live tenant for the selected types with the backup engine into
a throwaway in-memory repository (as ``compare.diff_live`` does), so a live document has
exactly the shape of a stored one, and reads the recycle bin of the soft-deletable types.
:func:`plan_restore` then compares the two sides without any I/O and returns a
:class:`~entra_backup.domain.restore.plan.RestorePlan`. Nothing is written to Graph.

Per stored object (graph-facts section 5, "Implications for design, Restore engine"):

* skipped, with the reason, where a restore must not write: types that are not restorable,
  the table's ``restore_skips`` (directory-synced users and groups, built-in role
  definitions), mail-enabled security groups and distribution lists (read-only in Graph),
  tenant settings under ``settings="skip"``. A skip is reported only where the snapshot
  and the tenant differ: it says what a restore leaves as it is;
* live with the same id: ``update`` of the writable properties that differ (none: no item);
* in the recycle bin: ``undelete`` (keeps the id, memberships, licences and assignments);
* otherwise it may be matched with a live object that stands for it: the object an
  earlier restore re-created (``known_ids``, from the journals of earlier runs), or, for
  a user, a live user created after the snapshot with its ``userPrincipalName``
  (``update`` of that object, ``live_id`` set); everything else is re-created where the
  type allows it, or skipped (devices re-register themselves).

Relationships are compared edge by edge (targets of a matched user compared through the
match): what the snapshot has and the tenant lacks becomes one ``add-relationships`` item
per object and relationship, what the tenant has and the snapshot lacks a
``remove-relationships`` item (only with ``remove_new``). Undeleted objects keep their
edges (Graph documents it), so they get none; edges to objects that cannot come back are
left out, since one bad reference fails a whole ``@odata.bind`` of 20. Objects created after
the snapshot are removed only with ``remove_new``.

References held in properties: a live object whose stored writable properties name an
object the plan re-creates (or that a live object stands for) still holds the old id, which
Graph keeps in, for one, a Conditional Access policy's include and exclude lists. Such an
object gets an ``update`` of those properties (also under ``deleted_only``, like an edge to
a re-created object), which the executor writes through its id map. Only the GUIDs of each
live object's writable properties are kept while the types are planned
(:meth:`_Planner.note_references`), so the check costs little memory on large tenants.

Around the planner: ``options.py`` (what a restore covers), ``selection.py`` (the chosen
objects, and the other types a partial restore reads), ``live_side.py`` (the live
tenant read like a snapshot, its recycle bin and digests).

``live_state`` holds per type a digest of the live documents the plan was computed
against, so a saved plan is refused later if the tenant changed
(``domain.restore.plan.changed_types``; :func:`live_digest` and :func:`read_live` compute
it again).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cache
from itertools import chain
from typing import Any, Literal

from entra_backup.domain.canonical import canonical_bytes
from entra_backup.domain.object_types import (
    ObjectType,
    Relationship,
    RestoreStrategy,
    WriteForm,
    by_name,
    restore_order,
)
from entra_backup.domain.restore import guests
from entra_backup.domain.restore.plan import (
    REPORT_ONLY,
    Action,
    PlanItem,
    RestorePlan,
    bound_at_create,
)
from entra_backup.graph.client import GraphClient
from entra_backup.services.restore.ids import GUID, EarlierRestores, remap_ids
from entra_backup.services.restore.live_side import (
    Document,
    DocumentSource,
    LiveTenant,
    SnapshotDocuments,
    live_digest,
    read_live,
)
from entra_backup.services.restore.options import RestoreOptions, SettingsMode
from entra_backup.services.restore.selection import Selection, select
from entra_backup.store.repository import Repository
from entra_backup.store.snapshot import Snapshot

# LiveTenant, RestoreOptions, SettingsMode, live_digest and read_live are re-exported: the
# restore command and scripts import them from the planner.
__all__ = [
    "DYNAMIC_MEMBERS", "MAIL_ENABLED", "NAMES_RECREATED", "NEVER_REMOVED", "SETTINGS_SKIPPED",
    "SETTINGS_TYPES", "LiveTenant", "RestoreOptions", "SettingsMode", "changed_properties",
    "live_digest", "make_plan", "plan_restore", "plan_selection", "read_live", "skip_reason",
]

SETTINGS_TYPES = frozenset({"authorizationPolicy", "groupSettings"})
"""Tenant-wide settings: ``settings="skip"`` leaves them as they are."""
NEVER_REMOVED = SETTINGS_TYPES | {"directoryRoles"}
"""Types whose objects created after the snapshot are never removed."""
SETTINGS_SKIPPED = "settings are kept as they are (--settings skip)"
MAIL_ENABLED = ("mail-enabled security groups and distribution lists are read-only in "
                "Graph")
DYNAMIC_MEMBERS = "members of a dynamic group follow its rule"
NAMES_RECREATED = "names objects this restore re-creates (new ids)"


async def make_plan(client: GraphClient, repo: Repository, snapshot: Snapshot,
                    options: RestoreOptions, *,
                    known_ids: EarlierRestores | Mapping[str, str] | None = None
                    ) -> RestorePlan:
    """Compare the snapshot with the live tenant; the plan of a restore (nothing written).

    ``known_ids`` (what earlier restores re-created, from their journals) lets an object
    an earlier restore re-created be matched instead of re-created again, and references
    it rewrote compare equal, whatever the selection."""
    selection = select(repo, snapshot, options)
    live = await read_live(client, snapshot, selection.read())
    return plan_selection(repo, snapshot, live, selection, options, known_ids=known_ids)


def plan_selection(repo: Repository, snapshot: Snapshot, live: LiveTenant,
                   selection: Selection, options: RestoreOptions, *,
                   known_ids: EarlierRestores | Mapping[str, str] | None = None,
                   stored: DocumentSource | None = None) -> RestorePlan:
    """:func:`plan_restore` of a selection against a live side that holds at least the
    types it reads (one live read serves several selections); ``stored`` stands for the
    snapshot's documents when given (one decryption serves several selections)."""
    return plan_restore(stored or SnapshotDocuments(repo, snapshot), live,
                        tenant=snapshot.tenant,
                        snapshot_id=snapshot.id, types=selection.types, options=options,
                        object_ids=selection.object_ids, known_ids=known_ids,
                        edge_sources=selection.edge_sources,
                        reference_sources=selection.reference_sources)


def plan_restore(stored: DocumentSource, live: LiveTenant, *, tenant: str, snapshot_id: str,
                 types: Iterable[ObjectType], options: RestoreOptions,
                 object_ids: Mapping[str, set[str]] | None = None,
                 known_ids: EarlierRestores | Mapping[str, str] | None = None,
                 edge_sources: Iterable[ObjectType] = (),
                 reference_sources: Iterable[ObjectType] = (),
                 now: datetime | None = None) -> RestorePlan:
    """The plan from the stored and the live documents (pure: no I/O beyond the sources).

    ``edge_sources`` are types, not all chosen, whose objects' edges to the chosen
    objects are planned too (see :func:`edge_sources`); ``reference_sources`` are types,
    not all chosen, whose live objects' properties are rewritten where they name objects
    the plan re-creates (see :func:`reference_sources`)."""
    planner = _Planner(stored, live, options, object_ids, EarlierRestores.of(known_ids))
    chosen = restore_order(types)
    for object_type in chosen:
        planner.plan_type(object_type)
    for object_type in reference_sources:
        planner.note_outside_references(object_type)
    planner.plan_references()
    if options.relationships:
        for object_type in edge_sources:
            planner.plan_reverse_edges(object_type)
        planner.plan_edges()
        planner.items = _with_create_binds(planner.items)
    return RestorePlan(tenant=tenant, snapshot=snapshot_id,
                       created_at=(now or datetime.now(UTC)).isoformat(),
                       options=options.to_json(), items=planner.items,
                       live_state=_guarded_state(live, chosen, planner.items),
                       matched=planner.live_ids())


def _guarded_state(live: LiveTenant, chosen: Iterable[ObjectType],
                   items: Iterable[PlanItem]) -> dict[str, str]:
    """The live digests of the chosen types and of every other type the plan writes
    (edges of objects not chosen): a saved plan that writes a type without its digest is
    refused, since nothing would notice that the tenant changed since."""
    names = {t.name for t in chosen} | {i.type for i in items if i.action is not Action.SKIP}
    return {name: digest for name, digest in live.state.items() if name in names}


def _with_create_binds(items: list[PlanItem]) -> list[PlanItem]:
    """The edges steps of re-created groups, less the edges their create binds
    (:func:`~entra_backup.domain.restore.plan.bound_at_create`) in writes and reason."""
    bound = bound_at_create(items)
    if not bound:
        return items
    def less(item: PlanItem) -> PlanItem:
        taken = bound.get((item.object_id, item.relationship or "")) \
            if item.action is Action.ADD_EDGES and item.type == "groups" else None
        if not taken:
            return item
        left = len(item.edges) - len(taken)
        relationship = by_name(item.type).relationship(item.relationship or "")
        return replace(item, writes=_writes(relationship, left) if left else 0,
                       reason=f"{item.reason}; {len(taken)} bound by the group's create")

    return [less(item) for item in items]


# --- the planner ---------------------------------------------------------------------------

Outcome = Literal["live", "skipped", "undelete", "recreate", "matched", "lost"]
"""What the plan does with a stored object: left live (maybe updated), skipped while live,
undeleted, re-created, matched to another live object, or gone for good."""


@dataclass
class _EdgeWork:
    """A stored object's edges of one relationship, to compare once every object is known."""

    object_type: ObjectType
    relationship: Relationship
    object_id: str
    display_name: str | None
    outcome: Outcome
    live_id: str | None
    stored: Any
    live: Any
    dynamic: bool


def _same(a: Any, b: Any) -> bool:
    return canonical_bytes(a) == canonical_bytes(b)


def _display(document: Mapping[str, Any]) -> str | None:
    for key in ("displayName", "userPrincipalName", "id"):
        value = document.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _unified(document: Mapping[str, Any]) -> bool:
    return "Unified" in (document.get("groupTypes") or ())


def _dynamic(document: Mapping[str, Any]) -> bool:
    return "DynamicMembership" in (document.get("groupTypes") or ())


def skip_reason(object_type: ObjectType, document: Mapping[str, Any]) -> str | None:
    """Why a restore never writes this object, or None."""
    if object_type.restore_strategy is RestoreStrategy.NOT_RESTORABLE:
        return object_type.not_restorable_reason or "not restorable"
    for rule in object_type.restore_skips:
        if rule.property in document and _same(document[rule.property], rule.equals):
            return rule.reason
    if object_type.name == "groups" and document.get("mailEnabled") is True \
            and not _unified(document):
        return MAIL_ENABLED
    return None


def _actions(object_type: ObjectType) -> frozenset[str]:
    return frozenset(name for name, _ in object_type.property_actions)


def changed_properties(object_type: ObjectType, stored: Mapping[str, Any],
                       live: Mapping[str, Any], standing: Mapping[str, str] | None = None
                       ) -> tuple[str, ...]:
    """The stored properties a restore writes back because the live object differs:
    not relationships, not annotations, not stripped on update, except those written
    through an action (``assignedLicenses``). ``standing`` (lower-cased old id -> live
    id) maps the ids of objects a live one stands for before comparing, so a reference
    an earlier restore already rewrote is no difference."""
    relationships = {r.name for r in object_type.relationships}
    actions = _actions(object_type)
    found = []
    for key in sorted(stored):
        if key.startswith("@") or key in relationships:
            continue
        if key in object_type.strip_on_update and key not in actions:
            continue
        value = remap_ids(stored[key], standing) if standing else stored[key]
        if key not in live or not _same(_comparable(key, value), _comparable(key, live[key])):
            found.append(key)
    return tuple(found)


def _comparable(key: str, value: Any) -> Any:
    """``value`` in a form that compares equal when Graph means the same: licences are a
    set of (skuId, set of disabled plans), in whatever order Graph lists them."""
    if key != "assignedLicenses" or not isinstance(value, list):
        return value
    return sorted((str(licence.get("skuId")).lower(),
                   sorted(str(p).lower() for p in licence.get("disabledPlans") or ()))
                  if isinstance(licence, Mapping) else (repr(licence), [])
                  for licence in value)


def _any_difference(object_type: ObjectType, stored: Mapping[str, Any],
                    live: Mapping[str, Any], *, relationships: bool) -> bool:
    """Whether a skipped object differs in what a restore would otherwise write."""
    if changed_properties(object_type, stored, live):
        return True
    return relationships and any(
        r.restorable and not _same(stored.get(r.name), live.get(r.name))
        for r in object_type.relationships)


@cache
def _unwritten_by_name(type_name: str) -> frozenset[str]:
    object_type = by_name(type_name)
    return frozenset({r.name for r in object_type.relationships}
                     | object_type.strip_on_update | _actions(object_type))


def _unwritten(object_type: ObjectType) -> frozenset[str]:
    """Stored keys an update never writes as a property: relationships, properties
    stripped on update, those written through an action."""
    return _unwritten_by_name(object_type.name)


def _reference_properties(object_type: ObjectType, document: Mapping[str, Any]
                          ) -> list[str]:
    """The stored properties an update writes with the ids remapped (not annotations)."""
    unwritten = _unwritten(object_type)
    return [key for key in document if key not in unwritten and not key.startswith("@")]


def _collect_guids(value: Any, found: set[str]) -> None:
    """Add every GUID (lower case) in a value, alone or inside a string (``api://{appId}``)."""
    if isinstance(value, str):
        if len(value) >= 36:
            found.update(g.lower() for g in GUID.findall(value))
    elif isinstance(value, list):
        for item in value:
            _collect_guids(item, found)
    elif isinstance(value, dict):
        for item in value.values():
            _collect_guids(item, found)


def _guids(value: Any) -> set[str]:
    found: set[str] = set()
    _collect_guids(value, found)
    return found


def _edge_target(relationship: Relationship, edge: Mapping[str, Any]) -> str:
    """The directory object an edge points to (an assignment's principal)."""
    if relationship.name == "appRoleAssignedTo":
        return str(edge.get("principalId"))
    if relationship.name == "scopedRoleMembers":
        return str((edge.get("roleMemberInfo") or {}).get("id"))
    return str(edge.get("id"))


def _edge_key(relationship: Relationship, edge: Mapping[str, Any],
              target: str) -> tuple[str, ...]:
    """What identifies an edge across a re-creation (assignments get new ids)."""
    if relationship.name == "appRoleAssignedTo":
        return (target, str(edge.get("appRoleId")))
    if relationship.name == "scopedRoleMembers":
        return (target, str(edge.get("roleId")))
    return (target,)


def _edges(relationship: Relationship, value: Any) -> list[Mapping[str, Any]]:
    if value is None:
        return []
    if isinstance(value, Mapping):
        return [value]
    return [edge for edge in value if isinstance(edge, Mapping)]


def _writes(relationship: Relationship, count: int) -> int:
    if relationship.write is WriteForm.BIND:
        return math.ceil(count / max(relationship.max_per_request, 1))
    return count


class _Planner:
    def __init__(self, stored: DocumentSource, live: LiveTenant, options: RestoreOptions,
                 object_ids: Mapping[str, set[str]] | None,
                 earlier: EarlierRestores) -> None:
        self.stored = stored
        self.earlier = earlier
        self.known_ids = earlier.ids
        """Old id -> new id of objects earlier restores re-created."""
        self.live = live
        self.options = options
        self.object_ids = object_ids
        self.items: list[PlanItem] = []
        self.outcomes: dict[str, Outcome] = {}
        self.matched: dict[str, str] = {}
        """Stored id -> the live id it was matched with by natural key."""
        self.standing: dict[str, str] = earlier.mapping()
        """Lower-cased stored id (or appId) -> the live id standing for it, to compare
        references with: ``matched``, and what earlier restores re-created (of every
        type, whatever the selection) unless this plan re-creates it again."""
        self.work: list[_EdgeWork] = []
        self.in_bin: set[str] = {i for items in live.recycle_bin.values() for i in items}
        self.references: list[tuple[ObjectType, str, frozenset[str], frozenset[str]]] = []
        """Live objects whose writable stored properties hold GUIDs: (type, id, those
        GUIDs, the GUIDs of the same properties live)."""
        self._guid_sets: dict[frozenset[str], frozenset[str]] = {}
        self.recreated_app_ids: set[str] = set()
        """appIds (lower case) of the applications the plan re-creates."""

    # --- objects ---------------------------------------------------------------------------

    def plan_type(self, object_type: ObjectType) -> None:
        name = object_type.name
        wanted = None if self.object_ids is None else self.object_ids.get(name, set())
        missing: list[tuple[str, Document]] = []
        new: dict[str, Document] = {}
        merged = heapq.merge(((i, 0, d) for i, d in self.stored.objects(name)),
                             ((i, 1, d) for i, d in self.live.documents.objects(name)),
                             key=lambda item: (item[0], item[1]))
        pending: tuple[str, int, Document] | None = None
        for item in chain(merged, (None,)):
            if pending is not None and item is not None and pending[0] == item[0]:
                if wanted is None or item[0] in wanted:
                    self._both(object_type, item[0], pending[2], item[2])
                pending = None
                continue
            if pending is not None:
                object_id, side, document = pending
                if side == 1:
                    new[object_id] = document
                elif wanted is None or object_id in wanted:
                    missing.append((object_id, document))
            pending = item
        by_upn = {str(d["userPrincipalName"]).lower(): i for i, d in new.items()
                  if name == "users" and isinstance(d.get("userPrincipalName"), str)}
        for object_id, document in missing:
            self._missing(object_type, object_id, document, by_upn)
        if self.options.remove_new and self.object_ids is None:
            matched = set(self.matched.values())
            for object_id, document in new.items():
                if object_id not in matched:
                    self._created_later(object_type, object_id, document)

    def _add(self, item: PlanItem) -> None:
        self.items.append(item)

    def live_id(self, object_id: str) -> str:
        """The id a stored object has live: its match, the object an earlier restore
        re-created for it, or its own."""
        return self.matched.get(object_id) or self.standing.get(object_id.lower(), object_id)

    def live_ids(self) -> dict[str, str]:
        """The plan's ``matched``: this plan's matches, and the ids and appIds earlier
        restores re-created that this plan does not re-create again, through which the
        executor writes references."""
        earlier = chain(self.earlier.ids.items(), self.earlier.app_ids.items())
        found = {old: new for old, new in earlier if old.lower() in self.standing}
        found.update(self.matched)
        return found

    def _skip(self, object_type: ObjectType, object_id: str, document: Mapping[str, Any],
              reason: str, live_id: str | None = None) -> None:
        self._add(PlanItem(Action.SKIP, object_type.name, object_id, reason,
                           display_name=_display(document), live_id=live_id, writes=0))

    def _both(self, object_type: ObjectType, object_id: str, stored: Document,
              live: Document) -> None:
        """A stored object that is live with the same id."""
        reason = skip_reason(object_type, stored) or skip_reason(object_type, live)
        if reason is None and object_type.name in SETTINGS_TYPES \
                and self.options.settings == "skip":
            reason = SETTINGS_SKIPPED
        if reason is not None:
            self.outcomes[object_id] = "skipped"
            if not self.options.deleted_only and _any_difference(
                    object_type, stored, live, relationships=self.options.relationships):
                self._skip(object_type, object_id, stored, reason, object_id)
            return
        self.outcomes[object_id] = "live"
        if not self.options.deleted_only:
            self._update(object_type, object_id, stored, live, live_id=object_id,
                         why="differs from the snapshot")
        self.note_references(object_type, object_id, stored, live)
        self._remember_edges(object_type, object_id, stored, live, outcome="live",
                             live_id=object_id)

    def _update(self, object_type: ObjectType, object_id: str, stored: Document,
                live: Document, *, live_id: str, why: str, always: bool = False) -> None:
        properties = changed_properties(object_type, stored, live, self.standing)
        if object_id in self.earlier.report_only and live.get("state") == REPORT_ONLY:
            # Re-created report-only by an earlier restore: an operator enables it.
            properties = tuple(p for p in properties if p != "state")
        if not properties and not always:
            return
        actions = [p for p in properties if p in _actions(object_type)]
        reason = f"{why}: {', '.join(properties)}" if properties else \
            f"{why}; no property differs"
        writes = (1 + len(actions)) if properties else 0
        self._add(PlanItem(Action.UPDATE, object_type.name, object_id, reason,
                           display_name=_display(stored), live_id=live_id,
                           properties=properties, writes=writes))

    def _missing(self, object_type: ObjectType, object_id: str, stored: Document,
                 by_upn: Mapping[str, str]) -> None:
        """A stored object with no live object of the same id."""
        name = object_type.name
        reason = skip_reason(object_type, stored)
        if reason is not None:
            self.outcomes[object_id] = "lost"
            self._skip(object_type, object_id, stored, f"deleted from the tenant; {reason}")
            return
        deleted = self.live.recycle_bin.get(name, {}).get(object_id)
        if deleted is not None:
            self._undelete(object_type, object_id, stored, deleted, by_upn)
            return
        earlier = self.known_ids.get(object_id)
        if earlier is not None and self.live.documents.get(name, earlier) is not None:
            self._matched(object_type, object_id, stored, earlier,
                          f"deleted for good; re-created as {earlier} by an earlier restore",
                          deleted_only_skips=False)
            return
        upn = stored.get("userPrincipalName")
        live_id = by_upn.get(upn.lower()) if name == "users" and isinstance(upn, str) else None
        if live_id is not None:
            self._matched(object_type, object_id, stored, live_id,
                          f"deleted for good; matched by userPrincipalName {upn} with live "
                          f"user {live_id}")
            return
        if name in SETTINGS_TYPES and self.options.settings == "skip":
            self.outcomes[object_id] = "lost"
            self._skip(object_type, object_id, stored, SETTINGS_SKIPPED)
            return
        if object_type.restore_strategy is RestoreStrategy.UPDATE_ONLY:
            self.outcomes[object_id] = "lost"
            why = ("cannot be re-created through Graph; the device re-registers itself"
                   if name == "devices" else "cannot be re-created through Graph")
            self._skip(object_type, object_id, stored, why)
            return
        self._recreate(object_type, object_id, stored)

    def _undelete(self, object_type: ObjectType, object_id: str, stored: Document,
                  deleted: Mapping[str, Any], by_upn: Mapping[str, str]) -> None:
        self.outcomes[object_id] = "undelete"
        since = deleted.get("deletedDateTime") or "an unknown time"
        reason = f"in the recycle bin since {since}; undeleted with its id and memberships"
        if object_type.name == "applications":
            reason += "; its service principal is restored separately"
        upn = stored.get("userPrincipalName")
        taken = by_upn.get(upn.lower()) if isinstance(upn, str) else None
        if object_type.name == "users" and taken is not None:
            reason += (f"; live user {taken} now holds its userPrincipalName, so the undelete "
                       f"fails until that user is renamed or removed")
        self._add(PlanItem(Action.UNDELETE, object_type.name, object_id, reason,
                           display_name=_display(stored), live_id=object_id))

    def _matched(self, object_type: ObjectType, object_id: str, stored: Document,
                 live_id: str, why: str, *, deleted_only_skips: bool = True) -> None:
        """A deleted object that another live object stands for: a user created later
        with its userPrincipalName, or the object an earlier restore re-created.

        Under ``deleted_only`` a user matched by name is left as it is (it was not
        restored by us); an earlier restore's object is not missing, so it is left
        without an update but its missing edges to re-created objects are planned."""
        live = self.live.documents.get(object_type.name, live_id) or {}
        if self.options.deleted_only and deleted_only_skips:
            self.outcomes[object_id] = "lost"
            self._skip(object_type, object_id, stored,
                       f"{why}, which --deleted-only leaves as it is", live_id)
            return
        self.outcomes[object_id] = "matched"
        self.matched[object_id] = live_id
        self.standing[object_id.lower()] = live_id
        if not self.options.deleted_only:
            self._update(object_type, object_id, stored, live, live_id=live_id, why=why,
                         always=deleted_only_skips)
        self._remember_edges(object_type, object_id, stored, live, outcome="matched",
                             live_id=live_id)

    def _recreate(self, object_type: ObjectType, object_id: str, stored: Document) -> None:
        self.outcomes[object_id] = "recreate"
        # Gone again since an earlier restore re-created it: its new id is no more.
        self.standing.pop(object_id.lower(), None)
        if object_type.name == "applications" and isinstance(stored.get("appId"), str):
            self.recreated_app_ids.add(stored["appId"].lower())
            self.standing.pop(stored["appId"].lower(), None)
        actions = _actions(object_type)
        left_out = frozenset(k for k in stored if k in object_type.strip_on_create
                             and k not in actions)
        writes = 1 + sum(1 for k in actions if stored.get(k))
        if guests.is_guest(object_type.name, stored):
            # The invitation, then one PATCH of the rest.
            writes += 1 if guests.guest_patch(object_type, stored, left_out) else 0
        else:
            writes += 1 if any(k in stored for k in object_type.create_only_later) else 0
        reason = "deleted for good (not in the recycle bin); created again with a new id"
        reason += _recreate_note(object_type, stored, self.options)
        self._add(PlanItem(Action.RECREATE, object_type.name, object_id, reason,
                           display_name=_display(stored),
                           properties=tuple(sorted(left_out)), writes=writes))
        self._remember_edges(object_type, object_id, stored, {}, outcome="recreate",
                             live_id=None)

    def _created_later(self, object_type: ObjectType, object_id: str,
                       live: Document) -> None:
        """A live object the snapshot lacks (only with ``remove_new``)."""
        if object_type.name in NEVER_REMOVED or \
                object_type.restore_strategy is RestoreStrategy.NOT_RESTORABLE:
            return
        reason = skip_reason(object_type, live)
        if reason is not None:
            self._skip(object_type, object_id, live, f"created after the snapshot; {reason}",
                       object_id)
            return
        soft = object_type.soft_delete and (object_type.name != "groups" or _unified(live))
        fate = ("soft-deleted: restorable from the recycle bin for 30 days" if soft
                else "deleted for good")
        self._add(PlanItem(Action.REMOVE, object_type.name, object_id,
                           f"created after the snapshot (--remove-new); {fate}",
                           display_name=_display(live), live_id=object_id))

    # --- references held in properties -----------------------------------------------------

    def note_references(self, object_type: ObjectType, object_id: str, stored: Document,
                        live: Document) -> None:
        """Keep the GUIDs of a live object's writable stored properties, and those of its
        live ones (one shared set per distinct value, so a million licensed users cost a
        few sets)."""
        unwritten = _unwritten(object_type)
        found: set[str] = set()
        now: set[str] = set()
        for name, value in stored.items():
            if name not in unwritten and not name.startswith("@"):
                _collect_guids(value, found)
                _collect_guids(live.get(name), now)
        found.discard(object_id.lower())
        if found:
            self.references.append((object_type, object_id, self._shared(found),
                                    self._shared(now)))

    def note_outside_references(self, object_type: ObjectType) -> None:
        """:meth:`note_references` of the live objects of ``object_type`` the plan does
        not cover (nothing else of them is compared)."""
        for object_id, stored in self.stored.objects(object_type.name):
            if object_id in self.outcomes:
                continue
            live = self.live.documents.get(object_type.name, object_id)
            if live is not None and skip_reason(object_type, stored) is None \
                    and skip_reason(object_type, live) is None:
                self.note_references(object_type, object_id, stored, live)

    def _shared(self, guids: set[str]) -> frozenset[str]:
        frozen = frozenset(guids)
        return self._guid_sets.setdefault(frozen, frozen)

    def plan_references(self) -> None:
        """An ``update`` of the properties of live objects that name re-created objects, or
        objects a live one stands for while the live value does not name that one yet
        (the old ids do not exist any more)."""
        recreated = {i.lower() for i, fate in self.outcomes.items() if fate == "recreate"} \
            | self.recreated_app_ids
        standing = {old: new.lower() for old, new in self.standing.items()}
        if not recreated and not standing:
            return

        def stale(guids: Iterable[str], now: frozenset[str]) -> bool:
            return any(g in recreated or (g in standing and standing[g] not in now)
                       for g in guids)

        updates = {(i.type, i.object_id): n for n, i in enumerate(self.items)
                   if i.action is Action.UPDATE}
        for object_type, object_id, guids, now in self.references:
            if not stale(guids, now):
                continue
            stored = self.stored.get(object_type.name, object_id) or {}
            naming = tuple(sorted(p for p in _reference_properties(object_type, stored)
                                  if stale(_guids(stored[p]), now)))
            position = updates.get((object_type.name, object_id))
            if position is not None:
                item = self.items[position]
                properties = tuple(sorted(set(item.properties) | set(naming)))
                self.items[position] = replace(
                    item, properties=properties, writes=max(item.writes, 1),
                    reason=f"{item.reason}; {NAMES_RECREATED}: {', '.join(naming)}")
                continue
            self._add(PlanItem(Action.UPDATE, object_type.name, object_id,
                               f"{NAMES_RECREATED}: {', '.join(naming)}",
                               display_name=_display(stored), live_id=object_id,
                               properties=naming))

    # --- relationships ---------------------------------------------------------------------

    def _remember_edges(self, object_type: ObjectType, object_id: str, stored: Document,
                        live: Mapping[str, Any], *, outcome: Outcome,
                        live_id: str | None) -> None:
        if not self.options.relationships:
            return
        dynamic = object_type.name == "groups" and (_dynamic(stored) or _dynamic(live))
        for relationship in object_type.relationships:
            if not relationship.restorable:
                continue
            old, new = stored.get(relationship.name), live.get(relationship.name)
            if outcome != "recreate" and _same(old, new):
                continue
            if outcome == "recreate" and not _edges(relationship, old):
                continue
            self.work.append(_EdgeWork(object_type, relationship, object_id,
                                       _display(stored), outcome, live_id, old, new,
                                       dynamic and relationship.name == "members"))

    def plan_reverse_edges(self, object_type: ObjectType) -> None:
        """Edges that live objects of ``object_type`` the plan does not cover hold to the
        objects it does (a group's members, for users restored alone): only those edges
        are compared, so nothing else of the source is touched. Sources created after the
        snapshot count too (their edges to the chosen objects go with ``remove_new``)."""
        targets = set(self.outcomes)
        live_targets = targets | {self.matched[t] for t in targets if t in self.matched}
        stored_ids = set()
        for source_id, stored in self.stored.objects(object_type.name):
            stored_ids.add(source_id)
            self._reverse_source(object_type, source_id, stored, targets, live_targets)
        if self.options.remove_new:
            for source_id, _ in self.live.documents.objects(object_type.name):
                if source_id not in stored_ids:
                    self._reverse_source(object_type, source_id, {}, targets, live_targets)

    def _reverse_source(self, object_type: ObjectType, source_id: str, stored: Document,
                        targets: set[str], live_targets: set[str]) -> None:
        if source_id in self.outcomes:
            return  # planned with its own type
        live = self.live.documents.get(object_type.name, source_id)
        if live is None:
            return  # the source is gone, and this restore does not bring it back
        dynamic = object_type.name == "groups" and (_dynamic(stored) or _dynamic(live))
        found: list[_EdgeWork] = []
        for relationship in object_type.relationships:
            if not relationship.restorable:
                continue
            old = [e for e in _edges(relationship, stored.get(relationship.name))
                   if _edge_target(relationship, e) in targets]
            new = [e for e in _edges(relationship, live.get(relationship.name))
                   if _edge_target(relationship, e) in live_targets]
            if (old or new) and not _same(old, new):
                found.append(_EdgeWork(object_type, relationship, source_id,
                                       _display(stored or live), "live", source_id, old,
                                       new, dynamic and relationship.name == "members"))
        reason = skip_reason(object_type, stored) or skip_reason(object_type, live) \
            if stored else skip_reason(object_type, live)
        if found and reason is not None:
            self._skip(object_type, source_id, stored or live, reason, source_id)
        elif found:
            self.work += found

    def plan_edges(self) -> None:
        for work in self.work:
            self._edge_items(work)

    def _usable(self, work: _EdgeWork, target: str) -> bool | None:
        """Whether an edge to ``target`` is written (None: it is present already)."""
        fate = self.outcomes.get(target)
        if fate == "lost":
            return False
        if target in self.in_bin or fate == "undelete":
            if fate != "undelete":
                return False  # the target stays deleted and cannot be linked
            # A live source keeps its link to a soft-deleted target, which the undelete
            # brings back; a re-created or matched source never had it.
            return True if work.outcome in ("recreate", "matched") else None
        if self.options.deleted_only:
            return True if work.outcome == "recreate" or fate in ("recreate", "matched") \
                else None
        return True

    def _edge_items(self, work: _EdgeWork) -> None:
        rel = work.relationship
        stored = {}
        for edge in _edges(rel, work.stored):
            target = _edge_target(rel, edge)
            key = _edge_key(rel, edge, self.live_id(target))
            stored[key] = (target, str(edge.get("id")))
        live = {}
        for edge in _edges(rel, work.live):
            target = _edge_target(rel, edge)
            live[_edge_key(rel, edge, target)] = (target, str(edge.get("id")))
        if work.dynamic:
            if set(stored) != set(live) and not self.options.deleted_only:
                self._add(PlanItem(Action.SKIP, work.object_type.name, work.object_id,
                                   DYNAMIC_MEMBERS, display_name=work.display_name,
                                   live_id=work.live_id, relationship=rel.name, writes=0))
            return
        adds: list[str] = []
        dropped = 0
        for key in sorted(stored.keys() - live.keys()):
            target, edge_id = stored[key]
            usable = self._usable(work, target)
            if usable is None:
                continue
            if not usable:
                dropped += 1
                continue
            adds.append(edge_id if rel.write is WriteForm.ENTITY else target)
        if adds:
            reason = f"{rel.name}: {len(adds)} the snapshot has and the tenant lacks"
            if dropped:
                reason += (f"; {dropped} to objects that this restore does not bring back "
                           f"are left out")
            self._add(PlanItem(Action.ADD_EDGES, work.object_type.name, work.object_id,
                               reason, display_name=work.display_name,
                               live_id=work.live_id, relationship=rel.name,
                               edges=tuple(sorted(adds)), writes=_writes(rel, len(adds))))
        if not self.options.remove_new or self.options.deleted_only \
                or work.outcome == "recreate":
            return
        if rel.single_valued and stored:
            return  # writing the stored manager replaces the live one
        removes = sorted(edge_id if rel.write is WriteForm.ENTITY else target
                         for key, (target, edge_id) in live.items()
                         if key not in stored and target not in self.in_bin)
        if removes:
            self._add(PlanItem(Action.REMOVE_EDGES, work.object_type.name, work.object_id,
                               f"{rel.name}: {len(removes)} added after the snapshot "
                               f"(--remove-new)", display_name=work.display_name,
                               live_id=work.live_id, relationship=rel.name,
                               edges=tuple(removes), writes=len(removes)))


def _recreate_note(object_type: ObjectType, stored: Mapping[str, Any],
                   options: RestoreOptions) -> str:
    """What an operator must know about this re-creation."""
    name = object_type.name
    if name == "users":
        if stored.get("userType") == "Guest":
            return "; a guest is invited again, and must redeem the new invitation"
        return ("; it gets a new password (the old one and its authentication methods "
                "cannot be restored)")
    if name == "applications":
        secrets = len(stored.get("passwordCredentials") or ())
        return (f"; it gets a new appId (clients and federations that know the old one "
                f"break), and its client secrets cannot be recovered ({secrets} to issue "
                f"again)")
    if name == "servicePrincipals":
        return "; created for its application's appId (new if the application is re-created)"
    if name == "groups":
        if _dynamic(stored):
            return "; its membership rule fills it again"
        if stored.get("members") or stored.get("owners"):
            return "; its members and owners are added once it exists"
        return ""
    if name == "conditionalAccessPolicies":
        state = stored.get("state")
        if options.ca_state == "report-only":
            return (f"; created in report-only state ({REPORT_ONLY}), not {state!r} as "
                    f"backed up (--ca-state report-only)")
        return f"; created in its backed-up state {state!r}; references are remapped"
    if name in ("roleAssignments", "oauth2PermissionGrants"):
        return "; the objects it names are remapped to their new ids where re-created"
    return ""
