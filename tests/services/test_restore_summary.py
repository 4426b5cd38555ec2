"""The summary ``restore`` asks by (``services/restore/summary.py``), on a hand-made plan:
items and writes per type and action, the two write lanes and the plan's own estimate,
removals, whether a default password is needed, the plan's Conditional Access state, and
what a resumed run has left.
"""

from __future__ import annotations

from entra_backup.domain.restore.plan import Action, PlanItem, RestorePlan
from entra_backup.services.restore.execute import item_keys
from entra_backup.services.restore.plan import RestoreOptions
from entra_backup.services.restore.summary import still_to_do, summarize


def _plan(ca_state: str = "as-backed-up") -> RestorePlan:
    items = [
        PlanItem(Action.RECREATE, "users", "u1", "deleted for good", writes=2),
        PlanItem(Action.RECREATE, "users", "u2", "deleted for good", writes=1),
        PlanItem(Action.UNDELETE, "groups", "g1", "in the recycle bin"),
        PlanItem(Action.REMOVE, "groups", "g9", "created after the snapshot"),
        PlanItem(Action.REMOVE_EDGES, "groups", "g1", "added after the snapshot",
                 relationship="members", edges=("u7", "u8", "u9"), writes=3),
        PlanItem(Action.SKIP, "groups", "g5", "synchronised from on-premises"),
        PlanItem(Action.RECREATE, "conditionalAccessPolicies", "p1", "deleted for good"),
    ]
    options = RestoreOptions(remove_new=True, ca_state="as-backed-up"
                             if ca_state == "as-backed-up" else "report-only")
    return RestorePlan("contoso", "a" * 64, "2026-12-04T00:00:00+00:00", options.to_json(),
                       items)


def test_rows_writes_and_removals() -> None:
    plan = _plan()
    summary = summarize(plan)
    assert [(r.type, r.action, r.items, r.writes) for r in summary.rows] == [
        ("conditionalAccessPolicies", "recreate", 1, 1),
        ("groups", "undelete", 1, 1),
        ("groups", "remove-relationships", 1, 3),
        ("groups", "remove", 1, 1),
        ("groups", "skip", 1, 0),
        ("users", "recreate", 2, 3),
    ]
    assert (summary.directory_writes, summary.conditional_access_writes) == (8, 1)
    assert summary.writes == 9
    assert summary.estimated_seconds == plan.estimated_seconds()
    assert (summary.removed_objects, summary.removed_edges) == (1, 3)
    assert summary.recreated_users == 2 and summary.needs_password
    assert summary.ca_state == "as-backed-up"
    assert summarize(_plan("report-only")).ca_state == "report-only"


def test_a_plan_recorded_without_a_ca_state_is_report_only() -> None:
    plan = _plan()
    del plan.options["ca_state"]
    assert summarize(plan).ca_state == "report-only"


def test_what_a_resumed_run_has_left() -> None:
    plan = _plan()
    ordered = plan.ordered()
    keys = dict(zip((i.object_id for i in ordered), item_keys(ordered), strict=False))
    left = summarize(still_to_do(plan, {keys["u1"], keys["u2"], keys["p1"]}))
    assert not left.needs_password
    assert (left.directory_writes, left.conditional_access_writes) == (5, 0)
    assert still_to_do(plan, ()) is plan
