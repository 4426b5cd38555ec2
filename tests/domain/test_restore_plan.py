"""The restore plan model: order, write estimate, and its file format."""

from __future__ import annotations

import orjson
import pytest

from entra_backup.domain.errors import UsageError
from entra_backup.domain.restore.plan import (
    Action,
    PlanItem,
    RestorePlan,
    changed_types,
)


def plan(*items: PlanItem) -> RestorePlan:
    return RestorePlan("contoso", "ab" * 32, "2026-12-01T00:00:00+00:00", {"dry_run": True},
                       list(items), {"users": "u1", "groups": "g1"})


def test_objects_come_in_dependency_order_then_relationships_then_removals() -> None:
    items = [
        PlanItem(Action.REMOVE, "users", "attacker", "created after the snapshot"),
        PlanItem(Action.ADD_EDGES, "groups", "g", "members missing", relationship="members",
                 edges=("u",)),
        PlanItem(Action.RECREATE, "conditionalAccessPolicies", "ca", "deleted"),
        PlanItem(Action.RECREATE, "groups", "g", "hard-deleted"),
        PlanItem(Action.UNDELETE, "users", "u", "in the recycle bin"),
        PlanItem(Action.REMOVE_EDGES, "groups", "g", "added after", relationship="members",
                 edges=("attacker",)),
        PlanItem(Action.UPDATE, "administrativeUnits", "au", "description changed"),
    ]
    ordered = [(item.action, item.type) for item in plan(*items).ordered()]
    assert ordered == [
        (Action.UPDATE, "administrativeUnits"), (Action.UNDELETE, "users"),
        (Action.RECREATE, "groups"), (Action.RECREATE, "conditionalAccessPolicies"),
        (Action.ADD_EDGES, "groups"), (Action.REMOVE_EDGES, "groups"),
        (Action.REMOVE, "users"),
    ]


def test_the_estimate_follows_the_write_quota_and_the_serial_lane() -> None:
    users = [PlanItem(Action.RECREATE, "users", f"u{n}", "gone") for n in range(4000)]
    policies = [PlanItem(Action.RECREATE, "conditionalAccessPolicies", f"p{n}", "gone")
                for n in range(10)]
    skipped = [PlanItem(Action.SKIP, "users", "synced", "on-premises", writes=0)]
    made = plan(*users, *policies, *skipped)
    assert made.writes() == {"directory": 4000, "conditional_access": 10}
    # 3,000 writes at once, 1,000 more at 20 per second, 10 policies at 1.1 s each.
    assert made.estimated_seconds() == pytest.approx(50 + 11.0)
    assert made.counts()["users"] == {"recreate": 4000, "skip": 1}


def test_a_plan_file_round_trips_and_other_files_are_refused() -> None:
    made = plan(PlanItem(Action.UPDATE, "users", "u", "jobTitle differs",
                         properties=("jobTitle",), display_name="Ann", live_id="u"))
    text = orjson.dumps(made.to_json())
    again = RestorePlan.from_json(orjson.loads(text))
    assert again.to_json() == made.to_json()
    with pytest.raises(UsageError, match="not a restore plan"):
        RestorePlan.from_json({"format": "something else"})
    broken = orjson.loads(text)
    del broken["items"][0]["action"]
    with pytest.raises(UsageError, match="malformed"):
        RestorePlan.from_json(broken)


def test_a_plan_made_against_another_live_state_names_the_changed_types() -> None:
    assert changed_types(plan(), {"users": "u1", "groups": "g2"}) == ["groups"]
    assert changed_types(plan(), {"users": "u1", "groups": "g1"}) == []
