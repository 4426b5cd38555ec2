"""Every plan item checked against the snapshot and the plan's options before it is written.

A saved plan is authenticated (``domain/restore/authentic.py``); this is the second line:
whatever a plan says, the executor writes only what a plan computed from this snapshot
could say. An item that fails a check is reported failed with the reason and is not
written:

* ``remove`` only under ``--remove-new``, and only of an object that is not in the
  snapshot and that stands for none of its objects (matched or re-created);
  ``remove-relationships`` only under ``--remove-new`` too;
* every other writing item names an object of the snapshot (or one the id map knows);
* ``update`` writes only properties of the type's ``$select`` that an update may write
  (not relationships; not stripped on update unless written through an action);
* ``live_id`` is the object's own id or the one the id map gives it (the plan's
  ``matched``, or a re-creation in an authenticated journal);
* ``add-relationships`` adds only edges the stored object holds, and
  ``remove-relationships`` removes none of them.

``skip`` items write nothing and are not checked.

:func:`unguarded_types` names the types a saved plan writes without recording their live
state; such a plan is refused, since nothing would notice that the tenant changed since.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from entra_backup.domain.errors import EntraBackupError, UnknownObjectType
from entra_backup.domain.object_types import ObjectType, by_name
from entra_backup.domain.restore.plan import Action, PlanItem, RestorePlan
from entra_backup.services.restore.ids import body_ids

InSnapshot = Callable[[str, str], bool]
"""Whether the snapshot holds an object of the type (type name, object id)."""
StoredDocument = Callable[[PlanItem], Mapping[str, Any]]
"""The item's object as the snapshot holds it."""


@dataclass
class ItemValidator:
    """The checks of one run: the plan's options and id map, and the snapshot."""

    remove_new: bool
    matched: Mapping[str, str]
    in_snapshot: InSnapshot
    stored_document: StoredDocument
    recreated: Mapping[str, str] = field(default_factory=dict)
    """Old id -> new id of re-creations the journal records (authenticated lines)."""

    def problem(self, item: PlanItem) -> str | None:
        """Why ``item`` must not be written, or None when it may."""
        if item.action is Action.SKIP:
            return None
        try:
            object_type = by_name(item.type)
        except UnknownObjectType:
            return f"{item.type!r} is not an object type"
        for check in (self._options, self._object, self._live_id, self._properties,
                      self._edges):
            found = check(object_type, item)
            if found is not None:
                return found
        return None

    def _options(self, _: ObjectType, item: PlanItem) -> str | None:
        if item.action in (Action.REMOVE, Action.REMOVE_EDGES) and not self.remove_new:
            return f"a {item.action.value} step in a plan made without --remove-new"
        return None

    def _object(self, object_type: ObjectType, item: PlanItem) -> str | None:
        in_snapshot = self.in_snapshot(object_type.name, item.object_id)
        if item.action is Action.REMOVE:
            if in_snapshot:
                return f"{item.object_id} is in the snapshot; a restore does not remove it"
            if item.object_id in self._standing():
                return f"{item.object_id} stands for an object of the snapshot"
            return None
        if in_snapshot or item.object_id in self.matched or item.object_id in self.recreated:
            return None
        return f"{item.object_id} is not a {object_type.name} object of the snapshot"

    def _live_id(self, _: ObjectType, item: PlanItem) -> str | None:
        if item.live_id is None or item.action is Action.RECREATE:
            return None
        allowed = {item.object_id, self.matched.get(item.object_id),
                   self.recreated.get(item.object_id)}
        if item.live_id in allowed:
            return None
        return (f"live id {item.live_id} is neither {item.object_id} nor the id the restore "
                "matched it with")

    def _properties(self, object_type: ObjectType, item: PlanItem) -> str | None:
        if item.action is not Action.UPDATE:
            return None
        wrong = sorted(p for p in item.properties if p not in writable(object_type))
        if wrong:
            return f"{', '.join(wrong)}: not a property an update of {object_type.name} writes"
        return None

    def _edges(self, object_type: ObjectType, item: PlanItem) -> str | None:
        if item.action not in (Action.ADD_EDGES, Action.REMOVE_EDGES):
            return None
        relationship = {r.name: r for r in object_type.relationships}.get(
            str(item.relationship))
        if relationship is None:
            return f"{item.relationship!r} is not a relationship of {object_type.name}"
        if not relationship.restorable:
            return None  # reported skipped; nothing is written
        held = stored_edges(self.stored_document(item), str(item.relationship))
        if item.action is Action.ADD_EDGES:
            foreign = sorted(e for e in item.edges if e.lower() not in held)
            if foreign:
                return f"the snapshot's {item.relationship} hold no {', '.join(foreign)}"
        else:
            kept = sorted(e for e in item.edges if e.lower() in held)
            if kept:
                return f"{', '.join(kept)} are {item.relationship} in the snapshot"
        return None

    def _standing(self) -> set[str]:
        return {*self.matched.values(), *self.recreated.values()}


def writable(object_type: ObjectType) -> frozenset[str]:
    """The properties an ``update`` of the type may write."""
    actions = {name for name, _ in object_type.property_actions}
    relationships = {r.name for r in object_type.relationships}
    return frozenset(p for p in object_type.select
                     if p not in relationships
                     and (p not in object_type.strip_on_update or p in actions))


def stored_edges(document: Mapping[str, Any], relationship: str) -> frozenset[str]:
    """Every id (lower case) the stored relationship names: targets and edge ids."""
    return frozenset(value.lower() for value in body_ids(document.get(relationship)))


class PlanWithoutLiveState(EntraBackupError):
    """A saved plan that writes a type without recording what its live objects were, so
    a change of the tenant since the plan was made could not be noticed."""

    exit_code = 28


def unguarded_types(plan: RestorePlan) -> list[str]:
    """The types the plan writes whose live state it does not record."""
    written = {item.type for item in plan.items if item.action is not Action.SKIP}
    return sorted(written - set(plan.live_state))
