"""A restore plan: every write a restore will make, in order, each with its reason.

A plan is computed by comparing a snapshot with the live tenant (``services/restore``),
shown by ``restore --dry-run``, saved with ``--dry-run --json`` and executed later exactly
as reviewed with ``--plan FILE``. It is pure data: JSON in, JSON out, no I/O. A saved plan
also carries a MAC over its JSON (:mod:`.authentic`), checked before it is parsed for
execution.

Order: objects are restored type by type in the object-type table's restore order (every
type after the types it depends on), then relationships (both ends exist by then), then,
only when asked, the removal of what was added after the snapshot.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Literal

from entra_backup.domain.errors import UsageError
from entra_backup.domain.object_types import Lane, by_name, restore_order

CaState = Literal["report-only", "as-backed-up"]
"""Conditional Access policies a restore writes: in report-only state, or as backed up."""
REPORT_ONLY = "enabledForReportingButNotEnforced"
"""The report-only state of a Conditional Access policy."""
PLAN_FORMAT = "entra-backup-restore-plan"
PLAN_VERSION = 1
WRITE_QUOTA = 3000
"""Writes per app and tenant in any 150 s (graph-facts section 4.2)."""
WRITES_PER_SECOND = 20.0
SERIAL_SECONDS = 1.1
"""Conditional Access and named locations: 1 request/s, with the client's margin."""


class Action(StrEnum):
    """What a restore does with one object or one set of edges."""

    UNDELETE = "undelete"
    """``POST /directory/deletedItems/{id}/restore``: back with its id and memberships."""
    RECREATE = "recreate"
    """``POST`` of the stored object: a new id, every reference to it remapped."""
    UPDATE = "update"
    """``PATCH`` of the writable properties that differ from the snapshot."""
    ADD_EDGES = "add-relationships"
    """Members, owners, manager or assignments the snapshot has and the tenant lacks."""
    REMOVE_EDGES = "remove-relationships"
    """Edges added after the snapshot (only with ``--remove-new``)."""
    REMOVE = "remove"
    """An object created after the snapshot, soft-deleted (only with ``--remove-new``)."""
    SKIP = "skip"
    """Nothing is written; ``reason`` says why."""


_OBJECT_ACTIONS = (Action.UNDELETE, Action.RECREATE, Action.UPDATE, Action.SKIP)


@dataclass(frozen=True)
class PlanItem:
    """One step of a plan."""

    action: Action
    type: str
    object_id: str
    """The object's id in the snapshot (for ``remove``: its live id)."""
    reason: str
    display_name: str | None = None
    live_id: str | None = None
    """The live object a stored one was matched with (by id or natural key)."""
    properties: tuple[str, ...] = ()
    """For ``update``: the properties written; for ``recreate``: those left out."""
    relationship: str | None = None
    edges: tuple[str, ...] = ()
    """For relationship steps: the target ids, as the snapshot names them."""
    writes: int = 1

    def to_json(self) -> dict[str, Any]:
        """The item as a plan file and ``--json`` hold it."""
        value = asdict(self)
        value["action"] = self.action.value
        value["properties"] = list(self.properties)
        value["edges"] = list(self.edges)
        return value

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> PlanItem:
        """Parse an item of a plan file."""
        return cls(action=Action(value["action"]), type=str(value["type"]),
                   object_id=str(value["object_id"]), reason=str(value["reason"]),
                   display_name=value.get("display_name"), live_id=value.get("live_id"),
                   properties=tuple(value.get("properties", ())),
                   relationship=value.get("relationship"),
                   edges=tuple(value.get("edges", ())), writes=int(value.get("writes", 1)))


def stage_of(item: PlanItem, type_order: Mapping[str, int]) -> tuple[int, int]:
    """Where the item runs: objects by type order, then relationships, then removals."""
    position = type_order.get(item.type, len(type_order))
    if item.action in _OBJECT_ACTIONS:
        return (0, position)
    if item.action is Action.ADD_EDGES:
        return (1, position)
    if item.action is Action.REMOVE_EDGES:
        return (2, position)
    return (3, -position)


CREATE_BINDS = 20
"""Owners and members one group create may bind (graph-facts 5.4, group-post-groups)."""
BOUND_ON_CREATE = ("owners", "members")
"""Owners first: a group has few, and each one left over would cost a PATCH of its own."""


def bound_at_create(items: Iterable[PlanItem]) -> dict[tuple[str, str], tuple[str, ...]]:
    """(group id, relationship) -> the edges a re-created group's create binds.

    Owners first, then members, 20 in all, of the group's own ``add-relationships`` steps;
    only targets that exist when groups are created: not restored by the plan, or of a
    type restored before groups (users). The planner counts the rest as the edges
    steps' writes and the executor binds exactly these, so both agree."""
    chosen = list(items)
    order = {t.name: n for n, t in enumerate(restore_order())}
    pending = {i.object_id: i.type for i in chosen
               if i.action in (Action.RECREATE, Action.UNDELETE)}
    groups = sorted(i.object_id for i in chosen
                    if i.action is Action.RECREATE and i.type == "groups")
    edges = {(i.object_id, i.relationship): i.edges for i in chosen
             if i.action is Action.ADD_EDGES and i.type == "groups"}
    found: dict[tuple[str, str], tuple[str, ...]] = {}
    for group in groups:
        room = CREATE_BINDS
        for name in BOUND_ON_CREATE:
            ready = tuple(t for t in edges.get((group, name), ())
                          if t not in pending or order[pending[t]] < order["groups"])[:room]
            if ready:
                found[(group, name)] = ready
                room -= len(ready)
    return found


@dataclass
class RestorePlan:
    """A reviewed list of steps, with what the live tenant looked like when it was made."""

    tenant: str
    snapshot: str
    created_at: str
    options: dict[str, Any]
    items: list[PlanItem] = field(default_factory=list)
    live_state: dict[str, str] = field(default_factory=dict)
    """Per type, a digest of the live objects the plan was computed against."""
    matched: dict[str, str] = field(default_factory=dict)
    """Stored id -> the id of the live object standing for it (a user matched by
    userPrincipalName, an object an earlier restore re-created, whatever the selection),
    and old appId -> new appId of applications earlier restores re-created: references
    to the stored id are written with the live one."""

    def ordered(self) -> list[PlanItem]:
        """The items in execution order (stable within a stage)."""
        order = {t.name: index for index, t in enumerate(restore_order())}
        return sorted(self.items, key=lambda item: stage_of(item, order))

    def writes(self) -> dict[str, int]:
        """Graph writes the plan makes: on the directory quota and the serial lane."""
        directory = serial = 0
        for item in self.items:
            if item.action is Action.SKIP:
                continue
            if by_name(item.type).lane is Lane.CONDITIONAL_ACCESS:
                serial += item.writes
            else:
                directory += item.writes
        return {"directory": directory, "conditional_access": serial}

    def estimated_seconds(self) -> float:
        """A lower bound from the write quota: 3,000 at once, then 20/s; CA at 1/s."""
        writes = self.writes()
        after_burst = max(0, writes["directory"] - WRITE_QUOTA)
        return math.ceil(after_burst / WRITES_PER_SECOND) + writes["conditional_access"] * \
            SERIAL_SECONDS

    def counts(self) -> dict[str, dict[str, int]]:
        """Per type, how many items of each action."""
        counted: dict[str, Counter[str]] = {}
        for item in self.items:
            counted.setdefault(item.type, Counter())[item.action.value] += 1
        return {name: dict(counter) for name, counter in sorted(counted.items())}

    def to_json(self) -> dict[str, Any]:
        """The plan as ``--dry-run --json`` prints it and ``--plan FILE`` reads it."""
        return {"format": PLAN_FORMAT, "version": PLAN_VERSION, "tenant": self.tenant,
                "snapshot": self.snapshot, "created_at": self.created_at,
                "options": self.options, "writes": self.writes(),
                "estimated_seconds": self.estimated_seconds(), "counts": self.counts(),
                "live_state": self.live_state, "matched": self.matched,
                "items": [item.to_json() for item in self.ordered()]}

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> RestorePlan:
        """Parse a plan file; a file of another format or version is a UsageError."""
        if value.get("format") != PLAN_FORMAT or value.get("version") != PLAN_VERSION:
            raise UsageError("this file is not a restore plan of this version of "
                             "entra-backup (written by 'restore --dry-run --json')")
        try:
            return cls(tenant=str(value["tenant"]), snapshot=str(value["snapshot"]),
                       created_at=str(value["created_at"]), options=dict(value["options"]),
                       items=[PlanItem.from_json(item) for item in value["items"]],
                       live_state=dict(value.get("live_state", {})),
                       matched={str(k): str(v) for k, v in
                                dict(value.get("matched", {})).items()})
        except (KeyError, TypeError, ValueError) as exc:
            raise UsageError(f"the restore plan is malformed: {exc}") from exc


def changed_types(plan: RestorePlan, live_state: Mapping[str, str]) -> list[str]:
    """Types whose live objects changed since the plan was made (it must be made again)."""
    return sorted(name for name, digest in plan.live_state.items()
                  if live_state.get(name) != digest)

