"""What one object contributes to a delta page: its body and its ``<nav>@delta`` references.

Round 1 describes objects as they are now, with every current link. Later rounds
describe what changed after the baseline sequence number: new or restored objects in
full, updated ones (all selected properties, or only the changed ones with
``Prefer: return=minimal``), soft-deleted ones as ``@removed: changed``, hard-deleted
ones as ``@removed: deleted``, and link changes as references, removed ones marked
``@removed: deleted`` (delta-query-overview; delta-query-groups).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graph_emulator.handlers.render import odata_type, render
from graph_emulator.model import schema
from graph_emulator.model.directory import Directory, Entry
from graph_emulator.model.kinds import KINDS, RELATIONS
from graph_emulator.protocol import GraphError

DEFAULT_NAVIGATIONS: dict[str, tuple[str, ...]] = {
    # Tracked without $select: members@delta appears by default for groups (group-delta)
    # and in the directoryRoles delta example; administrative units hold members alike.
    "groups": ("members",),
    "directoryRoles": ("members",),
    "administrativeUnits": ("members",),
}


def tracked_navigations(kind: str) -> tuple[str, ...]:
    """Relationships a kind's delta can report as ``<nav>@delta``."""
    return tuple(relation for relation, sources in RELATIONS.items() if kind in sources)


@dataclass(frozen=True)
class Plan:
    """What a round tracks and how it answers."""

    kind: str
    properties: tuple[str, ...] | None
    """Selected properties (``id`` included), or None for the default set."""
    navigations: tuple[str, ...]
    since: int | None = None
    minimal: bool = False


def make_plan(kind: str, select: tuple[str, ...] | None, since: int | None,
              minimal: bool) -> Plan:
    """Split ``$select`` into properties and tracked relationships."""
    if select is None:
        return Plan(kind, None, DEFAULT_NAVIGATIONS.get(kind, ()), since, minimal)
    navigations = schema_navigations(kind)
    tracked = tracked_navigations(kind)
    chosen = tuple(name for name in select if name in navigations)
    for name in chosen:
        if name not in tracked:
            # delta-query-overview, "Limitations": navigation properties are not tracked.
            raise GraphError(501, "NotImplemented", "This operation target is not yet "
                             f"supported: '{name}' is not change-tracked.")
    properties = tuple(name for name in select if name not in navigations)
    return Plan(kind, properties, chosen, since, minimal)


def schema_navigations(kind: str) -> frozenset[str]:
    """Navigation property names of a kind's CSDL type."""
    return schema.navigation_names(KINDS[kind].odata_type)


@dataclass
class Change:
    """One object's part of a page."""

    object_id: str
    body: dict[str, Any]
    refs: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    """(sort key, navigation, reference JSON), in key order."""


def describe(directory: Directory, plan: Plan, object_id: str) -> Change | None:
    """The object's part of a page, or None when it has nothing to report."""
    entry = directory.get(object_id, plan.kind)
    if plan.since is None:
        return _whole(directory, plan, entry) if entry is not None else None
    if entry is not None:
        if entry.created_seq > plan.since:
            return _whole(directory, plan, entry)
        return _updated(directory, plan, entry, plan.since)
    if object_id in directory.recycle:
        return Change(object_id, {"id": object_id, "@removed": {"reason": "changed"}})
    if directory.is_gone(object_id):
        return Change(object_id, {"id": object_id, "@removed": {"reason": "deleted"}})
    return None


def _properties(plan: Plan) -> list[str] | None:
    return None if plan.properties is None else list(plan.properties)


def _whole(directory: Directory, plan: Plan, entry: Entry) -> Change:
    refs = []
    for navigation in plan.navigations:
        for target in directory.targets(navigation, entry.id, live_only=False):
            refs.append(_ref(directory, navigation, target, present=True))
    refs.sort(key=lambda ref: ref[0])
    return Change(entry.id, render(entry, _properties(plan)), refs)


def _updated(directory: Directory, plan: Plan, entry: Entry, since: int) -> Change | None:
    changed = set(entry.changed_since(since))
    if plan.properties is not None:
        changed &= set(plan.properties)
    refs = [
        _ref(directory, navigation, target, present=present)
        for navigation in plan.navigations
        for target, present in directory.link_changes(navigation, entry.id, since)
    ]
    if not changed and not refs:
        return None
    refs.sort(key=lambda ref: ref[0])
    if plan.minimal:
        body = {name: entry.data.get(name) for name in sorted(changed)
                if name != "id" and not name.startswith("@")}
        body["id"] = entry.id
    else:
        body = render(entry, _properties(plan))
    return Change(entry.id, body, refs)


def _ref(directory: Directory, navigation: str, target: str,
         *, present: bool) -> tuple[str, str, dict[str, Any]]:
    entry = directory.get(target) or directory.recycle.get(target)
    if entry is not None:
        type_name = odata_type(entry)
    else:
        kind = directory.kind_of(target)
        type_name = "#" + KINDS[kind].odata_type if kind else "#microsoft.graph.directoryObject"
    ref: dict[str, Any] = {"@odata.type": type_name, "id": target}
    if not present:
        ref["@removed"] = {"reason": "deleted"}
    return f"{navigation}/{target}", navigation, ref


def replay_body(directory: Directory, plan: Plan, object_id: str) -> dict[str, Any] | None:
    """The object again, without references, for a replay later in the round."""
    change = describe(directory, plan, object_id)
    return None if change is None else change.body
