"""What a restore plan will do, in the few numbers an administrator confirms it by.

``restore`` shows this summary before it writes and asks for confirmation; the dry run
shows it above the steps. Per object type: how many items of each action and how many
Graph writes; in all: the writes on the directory quota and on the serial Conditional
Access lane, the plan's duration estimate from the write quota (the plan's own figure),
what it removes (only with ``--remove-new``), and whether it needs a default password
(it re-creates users). The Conditional Access state is the plan's: it is recorded when
the plan is made, so a saved plan executes with the state it was reviewed with.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import asdict, dataclass, replace
from typing import Any

from entra_backup.domain.restore import guests
from entra_backup.domain.restore.plan import Action, CaState, RestorePlan
from entra_backup.services.restore.execute import item_keys
from entra_backup.services.restore.plan import RestoreOptions
from entra_backup.store.repository import Repository
from entra_backup.store.snapshot import Snapshot


@dataclass(frozen=True)
class SummaryRow:
    """One object type and action: how many items, and the Graph writes they make."""

    type: str
    action: str
    items: int
    writes: int


@dataclass(frozen=True)
class PlanSummary:
    """A plan in numbers; see the module docstring."""

    tenant: str
    snapshot: str
    rows: list[SummaryRow]
    """By type, then action in the order a restore carries them out."""
    directory_writes: int
    conditional_access_writes: int
    estimated_seconds: float
    recreated_users: int
    removed_objects: int
    removed_edges: int
    ca_state: CaState

    @property
    def writes(self) -> int:
        """Every Graph write the plan makes."""
        return self.directory_writes + self.conditional_access_writes

    @property
    def needs_password(self) -> bool:
        """Whether the plan re-creates users (who need a default password)."""
        return self.recreated_users > 0

    def to_json(self) -> dict[str, Any]:
        return {"tenant": self.tenant, "snapshot": self.snapshot,
                "rows": [asdict(row) for row in self.rows],
                "writes": self.writes, "directory_writes": self.directory_writes,
                "conditional_access_writes": self.conditional_access_writes,
                "estimated_seconds": self.estimated_seconds,
                "recreated_users": self.recreated_users,
                "removed_objects": self.removed_objects, "removed_edges": self.removed_edges,
                "needs_default_password": self.needs_password, "ca_state": self.ca_state}


def invited_guests(plan: RestorePlan, repo: Repository, snapshot: Snapshot) -> frozenset[str]:
    """The users the plan re-creates that are guests: invited again, so they need no
    default password (their stored documents say so; the plan alone does not)."""
    return frozenset(
        item.object_id for item in plan.items
        if item.action is Action.RECREATE and item.type == "users"
        and guests.is_guest(item.type, repo.get(snapshot, item.type, item.object_id)))


def summarize(plan: RestorePlan, invited: Collection[str] = ()) -> PlanSummary:
    """The summary of ``plan`` (pure: reads nothing but the plan). ``invited``: the
    re-created users that are guests (:func:`invited_guests`), who need no password."""
    items: Counter[tuple[str, str]] = Counter()
    writes: Counter[tuple[str, str]] = Counter()
    for item in plan.items:
        items[item.type, item.action.value] += 1
        if item.action is not Action.SKIP:
            writes[item.type, item.action.value] += item.writes
    order = {action.value: index for index, action in enumerate(Action)}
    lanes = plan.writes()
    return PlanSummary(
        tenant=plan.tenant, snapshot=plan.snapshot,
        rows=[SummaryRow(type_name, action, count, writes[type_name, action])
              for (type_name, action), count in
              sorted(items.items(), key=lambda entry: (entry[0][0], order[entry[0][1]]))],
        directory_writes=lanes["directory"],
        conditional_access_writes=lanes["conditional_access"],
        estimated_seconds=plan.estimated_seconds(),
        recreated_users=sum(1 for i in plan.items
                            if i.action is Action.RECREATE and i.type == "users"
                            and i.object_id not in invited),
        removed_objects=sum(1 for i in plan.items if i.action is Action.REMOVE),
        removed_edges=sum(len(i.edges) for i in plan.items
                          if i.action is Action.REMOVE_EDGES),
        ca_state=plan_ca_state(plan))


def still_to_do(plan: RestorePlan, finished: Collection[str]) -> RestorePlan:
    """``plan`` without the items an earlier attempt of its run finished (``finished``:
    their keys, as the journal names them), so a resumed run asks for what it will write."""
    if not finished:
        return plan
    ordered = plan.ordered()
    return replace(plan, items=[item for key, item in
                                zip(item_keys(ordered), ordered, strict=True)
                                if key not in finished])


def plan_ca_state(plan: RestorePlan) -> CaState:
    """The Conditional Access state the plan was made with (report-only when a plan of
    an earlier version did not record it)."""
    return RestoreOptions.from_json(plan.options).ca_state
