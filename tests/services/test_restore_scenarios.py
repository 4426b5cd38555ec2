"""End-to-end restore scenarios: plan with ``make_plan``, carry out with ``execute_plan``.

One backup of a generated 60-user tenant (emulator over HTTPS), checkpointed; every test
rolls back to it, breaks the tenant through Graph, plans, executes, and compares the live
tenant (read back through plain Graph calls, not the engine) with the snapshot object by
object: ids, every selected property a restore writes (not those the type strips on
update, which Graph computes or refuses), and relationship edge ids.

1. mass soft deletion of 20 % of the cloud-only users and of the Microsoft 365 groups;
2. attribute tampering of 15 cloud users and 5 assigned security groups;
3. membership sabotage, with and without ``remove_new``;
4. the dry run equals the real run (items done, and writes in the emulator's log).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from entra_backup.domain.object_types import by_name
from entra_backup.domain.restore.plan import Action, PlanItem, RestorePlan
from entra_backup.services.restore.execute import execute_plan
from entra_backup.services.restore.plan import RestoreOptions, make_plan
from entra_backup.services.restore.report import RestoreReport
from entra_backup.store.keys.passphrase import allow_weak_kdf_for_tests
from entra_backup.store.repository import Repository
from entra_backup.store.snapshot import Snapshot
from tests.services._backup_support import (
    LiveGraph,
    State,
    Tenant,
    backup,
    graph_client,
    new_repo,
    snapshot_state,
)
from tests.support.live_emulator import LiveEmulator

allow_weak_kdf_for_tests()

PASSWORD = "Restore!2026-Scenario"
CHECKPOINT = "scenarios-backed-up"
COMPARED = ("users", "groups")
RESTORED = ("users", "groups")
Key = tuple[str, str, str, str | None]
"""(action, type, object id, relationship) of a plan item."""


def key(item: PlanItem) -> Key:
    return (item.action.value, item.type, item.object_id, item.relationship)


def writing(plan: RestorePlan) -> list[PlanItem]:
    return [i for i in plan.items if i.action is not Action.SKIP]


@dataclass
class World:
    live: LiveEmulator
    repo: Repository
    snapshot: Snapshot
    stored: State
    tenant: Tenant

    @property
    def graph(self) -> LiveGraph:
        return self.tenant.graph

    def plan(self, **options: Any) -> RestorePlan:
        async def go() -> RestorePlan:
            async with graph_client(self.live) as client:
                return await make_plan(client, self.repo, self.snapshot,
                                       RestoreOptions(types=RESTORED, **options))
        return asyncio.run(go())

    def execute(self, plan: RestorePlan, journal: Path) -> RestoreReport:
        async def go() -> RestoreReport:
            async with graph_client(self.live) as client:
                return await execute_plan(client, self.repo, self.snapshot, plan, journal,
                                          default_password=PASSWORD)
        return asyncio.run(go())

    def log(self) -> list[dict[str, Any]]:
        """Every Graph request served (a $batch and each of its inner requests)."""
        return list(self.live.control("GET", "/log"))

    # --- picking what Graph lets a restore write ---------------------------------------

    def cloud_users(self) -> list[str]:
        return sorted(i for i, u in self.stored["users"].items()
                      if not u["onPremisesSyncEnabled"])

    def unified_groups(self) -> list[str]:
        return sorted(i for i, g in self.stored["groups"].items()
                      if "Unified" in g["groupTypes"] and not g["onPremisesSyncEnabled"]
                      and "DynamicMembership" not in g["groupTypes"])

    def assigned_security_groups(self) -> list[str]:
        return sorted(i for i, g in self.stored["groups"].items()
                      if g["securityEnabled"] and not g["mailEnabled"] and not g["groupTypes"]
                      and not g["onPremisesSyncEnabled"] and not g["isAssignableToRole"])

    def members(self, group: str) -> list[str]:
        return sorted(m["id"] for m in self.stored["groups"][group]["members"])

    # --- the comparison ----------------------------------------------------------------

    def differences(self) -> list[str]:
        """Live tenant vs snapshot for users and groups: ids, restored properties, edges."""
        live = self.tenant.state(COMPARED)
        found: list[str] = []
        for name in COMPARED:
            object_type = by_name(name)
            actions = {p for p, _ in object_type.property_actions}
            properties = [p for p in object_type.select
                          if p not in object_type.strip_on_update or p in actions]
            relationships = [r.name for r in object_type.relationships]
            want, got = self.stored[name], live[name]
            found += [f"{name}/{i}: in the snapshot, not live"
                      for i in sorted(set(want) - set(got))]
            found += [f"{name}/{i}: live, not in the snapshot"
                      for i in sorted(set(got) - set(want))]
            for object_id in sorted(set(want) & set(got)):
                a, b = want[object_id], got[object_id]
                for prop in properties:
                    if a.get(prop) != b.get(prop):
                        found.append(f"{name}/{object_id}.{prop}: snapshot {a.get(prop)!r} "
                                     f"!= live {b.get(prop)!r}")
                for rel in relationships:
                    if edge_ids(a.get(rel)) != edge_ids(b.get(rel)):
                        found.append(f"{name}/{object_id}.{rel}: snapshot "
                                     f"{edge_ids(a.get(rel))} != live {edge_ids(b.get(rel))}")
        return found


def edge_ids(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, dict):
        value = [value]
    return sorted(str(e["id"]) for e in value)


@pytest.fixture(scope="module")
def backed_up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("restore-scenarios")
    live = LiveEmulator.start(root / "emulator", users=60, seed=31, throttle="off")
    graph = LiveGraph(live)
    try:
        repo = new_repo(root / "repo")
        _, snapshot = asyncio.run(backup(live, repo))
        live.control("POST", "/state/checkpoint", {"name": CHECKPOINT})
        world = World(live, repo, snapshot, snapshot_state(repo, snapshot, COMPARED),
                      Tenant(graph))
        problems = world.differences()
        assert not problems, "the comparison must hold before anything is broken:\n" + \
            "\n".join(problems[:20])
        yield world
    finally:
        graph.close()
        live.stop()


@pytest.fixture
def world(backed_up: World) -> World:
    backed_up.live.control("POST", "/state/rollback", {"name": CHECKPOINT})
    backed_up.live.control("POST", "/settings", {"replication_lag_seconds": 0})
    backed_up.tenant.ghost_edges.clear()
    backed_up.tenant.soft_deleted.clear()
    return backed_up


def assert_equal_to_snapshot(world: World) -> None:
    problems = world.differences()
    assert not problems, "\n".join(problems[:40])


# --- 1. mass soft deletion -------------------------------------------------------------


def mass_delete(world: World) -> tuple[list[str], list[str]]:
    """Soft-delete every fifth cloud-only user and every fifth Microsoft 365 group."""
    users = world.cloud_users()
    groups = world.unified_groups()
    doomed_users = users[::5]
    doomed_groups = groups[::5]
    assert len(doomed_users) == math.ceil(len(users) / 5) >= 5
    assert doomed_groups, "the generated tenant should have Microsoft 365 groups"
    for user in doomed_users:
        world.graph.call("DELETE", f"users/{user}", expect=204)
    for group in doomed_groups:
        world.graph.call("DELETE", f"groups/{group}", expect=204)
        assert world.graph.get_or_none(f"directory/deletedItems/{group}") is not None
    return doomed_users, doomed_groups


def test_mass_soft_deletion_is_undone_with_the_same_ids(world: World, tmp_path: Path) -> None:
    users, groups = mass_delete(world)
    gone = {f"{t}/{i}: in the snapshot, not live" for t, ids in (("users", users),
                                                                ("groups", groups))
            for i in ids}
    assert gone <= set(world.differences()), "the comparison sees the deletions"

    plan = world.plan()

    assert {key(i) for i in writing(plan)} == \
        {("undelete", "users", u, None) for u in users} | \
        {("undelete", "groups", g, None) for g in groups}
    assert [i for i in plan.items if i.action is Action.SKIP] == []
    report = world.execute(plan, tmp_path / "journal.jsonl")
    assert report.ok, report.failed
    assert report.id_map == {}
    assert {i.object_id: i.new_id for i in report.items} == {i: i for i in users + groups}
    assert_equal_to_snapshot(world)


# --- 2. attribute tampering ------------------------------------------------------------


def test_tampered_attributes_are_set_back(world: World, tmp_path: Path) -> None:
    users = world.cloud_users()[-15:]
    groups = world.assigned_security_groups()[:5]
    assert (len(users), len(groups)) == (15, 5)
    for n, user in enumerate(users):
        world.tenant.patch(f"users/{user}", {"jobTitle": f"Tampered {n}",
                                             "department": "Tampering",
                                             "officeLocation": f"Room {n}"})
    for n, group in enumerate(groups):
        world.tenant.patch(f"groups/{group}", {"description": f"tampered {n}"})
    assert {d.split(":")[0] for d in world.differences()} == \
        {f"users/{u}.{p}" for u in users for p in ("department", "jobTitle", "officeLocation")} \
        | {f"groups/{g}.description" for g in groups}, "the comparison sees the tampering"

    plan = world.plan()

    assert {(*key(i), i.properties) for i in plan.items} == \
        {("update", "users", u, None, ("department", "jobTitle", "officeLocation"))
         for u in users} | \
        {("update", "groups", g, None, ("description",)) for g in groups}
    assert all(i.live_id == i.object_id and i.writes == 1 for i in plan.items)
    report = world.execute(plan, tmp_path / "journal.jsonl")
    assert report.ok, report.failed
    assert report.counts["done"] == 20
    assert_equal_to_snapshot(world)


# --- 3. membership sabotage ------------------------------------------------------------


@dataclass
class Sabotage:
    first: str
    second: str
    removed: dict[str, list[str]]
    attacker: str


def sabotage(world: World) -> Sabotage:
    """Two members out of each of two assigned groups, and a new user into the first."""
    first, second = [g for g in world.assigned_security_groups()
                     if len(world.members(g)) >= 4][:2]
    removed = {group: world.members(group)[:2] for group in (first, second)}
    for group, members in removed.items():
        for member in members:
            world.tenant.remove_link(f"groups/{group}/members", member)
    attacker = world.tenant.create_user("restore.attacker")
    world.tenant.add_link(f"groups/{first}/members", attacker)
    return Sabotage(first, second, removed, attacker)


def expected_readds(done: Sabotage) -> set[tuple[Key, tuple[str, ...]]]:
    return {(("add-relationships", "groups", g, "members"), tuple(sorted(m)))
            for g, m in done.removed.items()}


def test_membership_sabotage_is_undone_and_the_attacker_removed_on_request(
        world: World, tmp_path: Path) -> None:
    done = sabotage(world)
    assert {d.split(":")[0] for d in world.differences()} == \
        {f"groups/{g}.members" for g in done.removed} | {f"users/{done.attacker}"}

    keeping = world.plan()
    assert {(key(i), i.edges) for i in keeping.items} == expected_readds(done)
    assert not any(done.attacker in (i.object_id, *i.edges) for i in keeping.items)

    removing = world.plan(remove_new=True)
    assert {(key(i), i.edges) for i in removing.items} == expected_readds(done) | {
        (("remove-relationships", "groups", done.first, "members"), (done.attacker,)),
        (("remove", "users", done.attacker, None), ())}

    report = world.execute(removing, tmp_path / "journal.jsonl")
    assert report.ok, report.failed
    assert_equal_to_snapshot(world)  # memberships as backed up; the attacker is not live
    assert world.graph.get_or_none(f"users/{done.attacker}") is None
    assert world.graph.get_or_none(f"directory/deletedItems/{done.attacker}") is not None


# --- 4. the dry run equals the real run ------------------------------------------------


def expected_envelopes(plan: RestorePlan) -> int:
    """$batch envelopes the executor's documented rule sends for ``plan``: consecutive
    undeletes (updates, removals) of one type, or bind items of one type, up to 20 items
    at a time, share envelopes of 20 requests (one per item, one per 20 bound targets); an
    item with no partner goes alone."""
    runs: list[list[PlanItem]] = []
    for item in plan.ordered():
        kind = (item.action, item.type)
        batchable = item.action in (Action.UNDELETE, Action.UPDATE, Action.REMOVE) or (
            item.action is Action.ADD_EDGES and item.relationship == "members")
        if batchable and runs and 0 < len(runs[-1]) < 20 and \
                (runs[-1][0].action, runs[-1][0].type) == kind:
            runs[-1].append(item)
        else:
            runs.append([item] if batchable else [])
    requests = [sum(math.ceil(len(i.edges) / 20) if i.action is Action.ADD_EDGES else 1
                    for i in run) for run in runs if len(run) > 1]
    return sum(math.ceil(n / 20) for n in requests)


def writes_logged(records: list[dict[str, Any]]) -> tuple[int, int]:
    """(write requests, $batch envelopes) in log records."""
    envelopes = sum(1 for r in records if r["method"] == "POST" and r["path"] == "/$batch")
    writes = sum(1 for r in records if r["method"] != "GET") - envelopes
    return writes, envelopes


@pytest.mark.parametrize("scenario", ["mass-deletion", "membership-sabotage"])
def test_the_dry_run_equals_the_real_run(world: World, tmp_path: Path, scenario: str) -> None:
    if scenario == "mass-deletion":
        mass_delete(world)
        plan = world.plan()
    else:
        sabotage(world)
        plan = world.plan(remove_new=True)
    served = len(world.log())

    report = world.execute(plan, tmp_path / "journal.jsonl")

    records = world.log()[served:]
    planned = {key(i) for i in writing(plan)}
    assert {(i.action, i.type, i.object_id, i.relationship) for i in report.items
            if i.outcome == "done"} == planned
    assert report.counts == {"done": len(planned), "skipped": 0, "failed": 0,
                             "total": len(plan.items)}
    writes, envelopes = writes_logged(records)
    # The emulator logs a $batch envelope (POST /$batch) and each inner request apart.
    # The plan counts one write per inner request, so writes without the envelopes equal
    # the plan's. No retry: no replication lag is set and nothing was re-created.
    assert writes == plan.writes()["directory"] and plan.writes()["conditional_access"] == 0
    assert envelopes == expected_envelopes(plan)
    assert all(r["status"] < 300 for r in records if r["method"] != "GET"), \
        [r for r in records if r["status"] >= 300]
