"""A second restore of the same snapshot does not re-create what the first re-created.

The planner matches objects by id, and users also by userPrincipalName; groups,
applications and policies have no such key, so without more a second restore after a
first that re-created a group would create the group a second time. The journals of
earlier runs (``runs.earlier_id_map``) say which new id each re-created object got, and the
planner matches through them (``known_ids``); the plan's ``matched`` map makes the
executor write references with the live id.

Offline (pure planner) and end to end (emulator over HTTPS, run folders as the CLI keeps
them).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from entra_backup.domain.object_types import by_name
from entra_backup.domain.restore.plan import REPORT_ONLY, Action, RestorePlan
from entra_backup.services.restore.execute import execute_plan
from entra_backup.services.restore.ids import EarlierRestores
from entra_backup.services.restore.plan import (
    LiveTenant,
    RestoreOptions,
    live_digest,
    make_plan,
    plan_restore,
)
from entra_backup.services.restore.report import RestoreReport
from entra_backup.services.restore.runs import earlier_id_map, start_run
from entra_backup.store.keys.passphrase import allow_weak_kdf_for_tests
from entra_backup.store.repository import Repository
from entra_backup.store.snapshot import Snapshot
from tests.services._backup_support import (
    LiveGraph,
    State,
    backup,
    graph_client,
    new_repo,
    snapshot_state,
)
from tests.support.live_emulator import LiveEmulator

allow_weak_kdf_for_tests()

PASSWORD = "Rerun!2026-Restore"
CHECKPOINT = "rerun-backed-up"
Docs = Mapping[str, Mapping[str, dict[str, Any]]]


# --- offline -----------------------------------------------------------------------------


class Documents:
    def __init__(self, by_type: Docs) -> None:
        self.by_type = by_type

    def objects(self, type_name: str) -> Iterator[tuple[str, dict[str, Any]]]:
        return iter(sorted(self.by_type.get(type_name, {}).items()))

    def get(self, type_name: str, object_id: str) -> dict[str, Any] | None:
        return self.by_type.get(type_name, {}).get(object_id)


def group(object_id: str, members: list[str], **values: Any) -> dict[str, Any]:
    return {"id": object_id, "displayName": "Finance", "mailNickname": "finance",
            "mailEnabled": False, "securityEnabled": True, "groupTypes": [],
            "onPremisesSyncEnabled": None, "description": "money",
            "members": [{"@odata.type": "#microsoft.graph.user", "id": m} for m in members],
            "owners": [], **values}


def offline(stored: Docs, live: Docs,
            known: EarlierRestores | Mapping[str, str] | None = None,
            **options: Any) -> RestorePlan:
    documents = Documents(live)
    state = {name: live_digest(documents.objects(name)) for name in stored}
    return plan_restore(Documents(stored), LiveTenant(documents, {}, state), tenant="t",
                        snapshot_id="s", types=[by_name(n) for n in stored],
                        options=RestoreOptions(**options), known_ids=known)


def test_an_object_an_earlier_restore_recreated_is_matched_not_recreated_again() -> None:
    stored = {"groups": {"g-old": group("g-old", ["u1", "u2"])}}
    live = {"groups": {"g-new": group("g-new", ["u1"])}}

    unknown = offline(stored, live)
    assert {(i.action, i.object_id) for i in unknown.items} == {
        (Action.RECREATE, "g-old"), (Action.ADD_EDGES, "g-old")}, "a duplicate, without the map"

    plan = offline(stored, live, {"g-old": "g-new"})
    assert plan.matched == {"g-old": "g-new"}
    assert [(i.action, i.object_id, i.live_id, i.edges) for i in plan.items] == [
        (Action.ADD_EDGES, "g-old", "g-new", ("u2",))], "only the member it lacks"

    changed = offline(stored, {"groups": {"g-new": group("g-new", ["u1", "u2"],
                                                          description="changed")}},
                      {"g-old": "g-new"})
    assert [(i.action, i.live_id, i.properties) for i in changed.items] == [
        (Action.UPDATE, "g-new", ("description",))]


def test_a_matched_object_is_not_removed_as_new_and_a_gone_one_is_recreated() -> None:
    stored = {"groups": {"g-old": group("g-old", ["u1"])}}
    live = {"groups": {"g-new": group("g-new", ["u1"])}}
    assert offline(stored, live, {"g-old": "g-new"}, remove_new=True).items == []
    # The re-created object was deleted again: the map does not stop a new re-creation.
    again = offline(stored, {"groups": {}}, {"g-old": "g-new"})
    assert [i.action for i in again.items] == [Action.RECREATE, Action.ADD_EDGES]
    assert again.matched == {}


def policy(object_id: str, groups: list[str]) -> dict[str, Any]:
    return {"id": object_id, "displayName": "Finance needs MFA", "state": "enabled",
            "conditions": {"users": {"includeGroups": groups, "excludeUsers": []},
                           "applications": {"includeApplications": ["All"]}},
            "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}}


def test_a_reference_an_earlier_restore_rewrote_is_no_difference() -> None:
    stored = {"groups": {"g-old": group("g-old", ["u1"])},
              "conditionalAccessPolicies": {"p1": policy("p1", ["g-old"])}}
    rewritten = {"groups": {"g-new": group("g-new", ["u1"])},
                 "conditionalAccessPolicies": {"p1": policy("p1", ["g-new"])}}
    assert offline(stored, rewritten, {"g-old": "g-new"}).items == []

    # The policy still names the old id (rewritten by hand since, say): it is updated.
    stale = {"groups": {"g-new": group("g-new", ["u1"])},
             "conditionalAccessPolicies": {"p1": policy("p1", ["g-old"])}}
    plan = offline(stored, stale, {"g-old": "g-new"})
    assert [(i.action, i.object_id, i.properties) for i in plan.items] == [
        (Action.UPDATE, "p1", ("conditions",))]


def test_a_reference_rewritten_to_an_object_outside_the_selection_is_no_difference() -> None:
    stored = {"conditionalAccessPolicies": {"p1": policy("p1", ["g-old"])}}
    rewritten = {"conditionalAccessPolicies": {"p1": policy("p1", ["g-new"])}}
    assert [(i.action, i.properties) for i in offline(stored, rewritten).items] == [
        (Action.UPDATE, ("conditions",))], "without the map, the old id would come back"
    plan = offline(stored, rewritten, {"g-old": "g-new"})
    assert plan.items == []
    assert plan.matched == {"g-old": "g-new"}, "the executor writes references with it"


def user(object_id: str, licences: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": object_id, "displayName": "Ada", "userPrincipalName": "ada@contoso.com",
            "userType": "Member", "onPremisesSyncEnabled": None,
            "assignedLicenses": licences}


def test_licences_in_another_order_are_no_difference() -> None:
    e3 = {"skuId": "6fd2c87f-b296-42f0-b197-1e91e994b900",
          "disabledPlans": ["a1b2c3d4-0000-0000-0000-000000000001",
                            "a1b2c3d4-0000-0000-0000-000000000002"]}
    ems = {"skuId": "efccb6f7-5641-4e0e-bd10-b4976e1bf68e", "disabledPlans": []}
    e3_other_order = {**e3, "disabledPlans": e3["disabledPlans"][::-1]}
    stored = {"users": {"u1": user("u1", [e3, ems])}}
    assert offline(stored, {"users": {"u1": user("u1", [ems, e3_other_order])}}).items == []
    fewer = {**e3, "disabledPlans": e3["disabledPlans"][:1]}
    plan = offline(stored, {"users": {"u1": user("u1", [ems, fewer])}})
    assert [(i.action, i.properties) for i in plan.items] == [
        (Action.UPDATE, ("assignedLicenses",))], "a disabled plan less is a difference"


def test_a_policy_an_earlier_restore_recreated_report_only_stays_report_only() -> None:
    stored = {"conditionalAccessPolicies": {"p-old": policy("p-old", [])}}
    live = {"conditionalAccessPolicies": {
        "p-new": {**policy("p-new", []), "state": REPORT_ONLY}}}
    earlier = EarlierRestores(ids={"p-old": "p-new"}, report_only=frozenset({"p-old"}))
    assert offline(stored, live, earlier).items == []
    as_backed_up = EarlierRestores(ids={"p-old": "p-new"})
    assert [(i.action, i.properties) for i in offline(stored, live, as_backed_up).items] \
        == [(Action.UPDATE, ("state",))], "re-created enabled, then changed: set back"


def test_a_service_principal_naming_the_old_app_id_compares_through_the_new_one() -> None:
    old_app, new_app = "11111111-0000-0000-0000-000000000001", \
        "22222222-0000-0000-0000-000000000002"

    def principal(object_id: str, app_id: str) -> dict[str, Any]:
        return {"id": object_id, "appId": app_id, "displayName": "Payroll",
                "servicePrincipalNames": [app_id, f"api://{app_id}"]}

    stored = {"servicePrincipals": {"sp-old": principal("sp-old", old_app)}}
    live = {"servicePrincipals": {"sp-new": principal("sp-new", new_app)}}
    ids_only = offline(stored, live, {"sp-old": "sp-new"})
    assert [(i.action, i.properties) for i in ids_only.items] == [
        (Action.UPDATE, ("servicePrincipalNames",))], "the old appId would come back"
    earlier = EarlierRestores(ids={"sp-old": "sp-new"}, app_ids={old_app: new_app})
    plan = offline(stored, live, earlier)
    assert plan.items == []
    assert plan.matched == {"sp-old": "sp-new", old_app: new_app}


def test_the_matched_map_survives_the_plan_file() -> None:
    plan = offline({"groups": {"g-old": group("g-old", ["u1", "u2"])}},
                   {"groups": {"g-new": group("g-new", ["u1"])}}, {"g-old": "g-new"})
    assert RestorePlan.from_json(plan.to_json()).matched == {"g-old": "g-new"}


# --- end to end --------------------------------------------------------------------------


@dataclass
class World:
    live: LiveEmulator
    graph: LiveGraph
    repo: Repository
    snapshot: Snapshot
    stored: State

    def plan(self, known: Mapping[str, str]) -> RestorePlan:
        async def go() -> RestorePlan:
            async with graph_client(self.live) as client:
                return await make_plan(client, self.repo, self.snapshot,
                                       RestoreOptions(types=("users", "groups")),
                                       known_ids=known)
        return asyncio.run(go())

    def execute(self, plan: RestorePlan, journal: Path) -> RestoreReport:
        async def go() -> RestoreReport:
            async with graph_client(self.live) as client:
                return await execute_plan(client, self.repo, self.snapshot, plan, journal,
                                          default_password=PASSWORD)
        return asyncio.run(go())

    def writes(self) -> int:
        return sum(1 for r in self.live.control("GET", "/log")
                   if r["method"] != "GET" and r["path"] != "/$batch")

    def count(self, path: str, filter_: str) -> int:
        return len(self.graph.iterate(path, {"$filter": filter_, "$select": "id"}))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("restore-rerun")
    live = LiveEmulator.start(root / "emulator", users=40, seed=37, throttle="off")
    graph = LiveGraph(live)
    try:
        repo = new_repo(root / "repo")
        _, snapshot = asyncio.run(backup(live, repo))
        yield World(live, graph, repo, snapshot,
                    snapshot_state(repo, snapshot, ("users", "groups")))
    finally:
        graph.close()
        live.stop()


def security_group_with_members(world: World) -> str:
    return next(i for i, g in sorted(world.stored["groups"].items())
                if g["securityEnabled"] and not g["mailEnabled"] and not g["groupTypes"]
                and not g["onPremisesSyncEnabled"] and not g["isAssignableToRole"]
                and len(g["members"]) >= 2)


def test_a_second_restore_after_a_first_that_recreated_a_group_writes_nothing(
        world: World, tmp_path: Path) -> None:
    group_id = security_group_with_members(world)
    nickname = world.stored["groups"][group_id]["mailNickname"]
    world.graph.call("DELETE", f"groups/{group_id}", expect=204)
    if world.graph.get_or_none(f"directory/deletedItems/{group_id}") is not None:
        world.graph.call("DELETE", f"directory/deletedItems/{group_id}", expect=204)
    home = tmp_path / "home"

    first = world.plan(earlier_id_map(home, world.snapshot.tenant, world.repo.keys))
    assert (Action.RECREATE, group_id) in {(i.action, i.object_id) for i in first.items}
    run = start_run(home, first, world.repo.keys)
    report = world.execute(first, run.journal)
    assert report.ok, report.failed
    new_id = report.id_map[group_id]

    known = earlier_id_map(home, world.snapshot.tenant, world.repo.keys)
    assert known == EarlierRestores(ids={group_id: new_id})
    assert earlier_id_map(home, "another-tenant", world.repo.keys) == EarlierRestores()
    second = world.plan(known)
    assert second.matched == {group_id: new_id}
    assert [i for i in second.items if i.action is not Action.SKIP] == [], \
        "nothing left to restore"
    before = world.writes()
    assert world.execute(second, start_run(home, second, world.repo.keys).journal).ok
    assert world.writes() == before
    assert world.count("groups", f"mailNickname eq '{nickname}'") == 1
