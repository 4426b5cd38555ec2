"""The restore executor end to end: a backup of an emulated tenant over HTTPS, changes and
deletions made through Graph, then hand-built plans carried out by ``execute_plan`` with
the engine's Graph client, and the tenant read back through Graph.

Covered: undelete (same ids, same documents, memberships kept); a hard-deleted security
group re-created with its members under replication lag; hard-deleted users re-created in
one $batch, where the one Graph refuses fails alone; updates, batched, of users and of
the authorization policy singleton; a run killed twice and resumed from its journal
without duplicates; a re-creation sent but not journaled found again by its natural key;
the missing default password refused before any write; a Conditional Access policy
re-created in report-only state with its group and named location remapped; failures
(a synced user, a mail-enabled group) reported with Graph's error while the rest is done;
the report's JSON and CSV. Plus the executor's pure helpers.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from entra_backup.domain.errors import UsageError
from entra_backup.domain.object_types import by_name
from entra_backup.domain.restore.plan import REPORT_ONLY, Action, PlanItem, RestorePlan
from entra_backup.services.restore.execute import execute_plan, item_keys
from entra_backup.services.restore.ids import EarlierRestores, remap_ids
from entra_backup.services.restore.journal import (
    FINISHED,
    STARTED,
    Journal,
    JournalEntry,
    JournalSeal,
)
from entra_backup.services.restore.report import CSV_COLUMNS, RestoreReport
from entra_backup.services.restore.simple_items import license_change
from entra_backup.store.keys.passphrase import allow_weak_kdf_for_tests
from entra_backup.store.repository import Repository
from entra_backup.store.snapshot import Snapshot
from tests.services._backup_support import (
    TENANT,
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

PASSWORD = "Restore!2026-Xq"
CHECKPOINT = "restore-backed-up"
DEVICE = "00000000-0000-4000-8000-0000000000d1"
"""A device id no tenant of these tests holds (a skipped step names it)."""
TYPES = ("users", "groups", "applications", "servicePrincipals", "administrativeUnits",
         "conditionalAccessPolicies", "namedLocations", "authorizationPolicy")


@dataclass
class World:
    """A tenant backed up once; each test starts from the state of that backup."""

    live: LiveEmulator
    repo: Repository
    snapshot: Snapshot
    stored: State
    tenant: Tenant

    @property
    def graph(self) -> LiveGraph:
        return self.tenant.graph

    def plan(self, *items: PlanItem) -> RestorePlan:
        # Removals only come with --remove-new (the executor refuses them otherwise).
        removing = any(i.action in (Action.REMOVE, Action.REMOVE_EDGES) for i in items)
        return RestorePlan(tenant=TENANT, snapshot=self.snapshot.id,
                           created_at="2026-08-01T10:00:00+00:00",
                           options={"remove_new": True} if removing else {},
                           items=list(items))

    def execute(self, plan: RestorePlan, journal: Path, *,
                default_password: str | None = PASSWORD, **options: Any) -> RestoreReport:
        async def run() -> RestoreReport:
            async with graph_client(self.live) as client:
                return await execute_plan(client, self.repo, self.snapshot, plan, journal,
                                          default_password=default_password, **options)

        return asyncio.run(run())

    def cloud_users(self) -> list[str]:
        return sorted(i for i, u in self.stored["users"].items()
                      if not u["onPremisesSyncEnabled"])

    def synced_users(self) -> list[str]:
        return sorted(i for i, u in self.stored["users"].items()
                      if u["onPremisesSyncEnabled"])

    def security_groups(self) -> list[str]:
        """Assigned, writable security groups with members, in id order."""
        return sorted(i for i, g in self.stored["groups"].items()
                      if g["securityEnabled"] and not g["mailEnabled"] and not g["groupTypes"]
                      and not g["onPremisesSyncEnabled"] and not g["isAssignableToRole"]
                      and g["members"])

    def members(self, group_id: str) -> set[str]:
        return {m["id"] for m in self.graph.iterate(f"groups/{group_id}/members",
                                                    {"$select": "id"})}

    def hard_delete_group(self, group_id: str) -> None:
        """DELETE a group, then purge it from the recycle bin if it went there."""
        self.graph.call("DELETE", f"groups/{group_id}", expect=204)
        if self.graph.get_or_none(f"directory/deletedItems/{group_id}") is not None:
            self.graph.call("DELETE", f"directory/deletedItems/{group_id}", expect=204)

    def hard_delete_user(self, user_id: str) -> None:
        self.graph.call("DELETE", f"users/{user_id}", expect=204)
        self.graph.call("DELETE", f"directory/deletedItems/{user_id}", expect=204)

    def count(self, path: str, filter_: str) -> int:
        return len(self.graph.iterate(path, {"$filter": filter_, "$select": "id"}))

    def log(self) -> list[dict[str, Any]]:
        """Every Graph request the emulator has served (inner $batch requests included)."""
        return list(self.live.control("GET", "/log"))

    def writes(self) -> int:
        """Write requests the emulator has served so far (inner $batch requests are
        logged apart from their envelope)."""
        return sum(1 for record in self.log()
                   if record["method"] != "GET" and record["path"] != "/$batch")


@pytest.fixture(scope="module")
def backed_up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("restore")
    live = LiveEmulator.start(root / "emulator", users=40, seed=31, throttle="off")
    graph = LiveGraph(live)
    try:
        repo = new_repo(root / "repo")
        _, snapshot = asyncio.run(backup(live, repo))
        live.control("POST", "/state/checkpoint", {"name": CHECKPOINT})
        yield World(live, repo, snapshot, snapshot_state(repo, snapshot, TYPES), Tenant(graph))
    finally:
        graph.close()
        live.stop()


@pytest.fixture
def world(backed_up: World) -> World:
    backed_up.live.control("POST", "/state/rollback", {"name": CHECKPOINT})
    backed_up.live.control("POST", "/settings", {"replication_lag_seconds": 0})
    return backed_up


def add_edges(type_name: str, object_id: str, relationship: str, edges: list[str]
              ) -> PlanItem:
    return PlanItem(Action.ADD_EDGES, type_name, object_id, "missing from the tenant",
                    relationship=relationship, edges=tuple(sorted(edges)),
                    writes=max(1, len(edges)))


def recreate(type_name: str, object_id: str, name: str | None = None) -> PlanItem:
    return PlanItem(Action.RECREATE, type_name, object_id, "hard-deleted", display_name=name)


def stored_edges(world: World, type_name: str, object_id: str, relationship: str) -> list[str]:
    return [e["id"] for e in world.stored[type_name][object_id][relationship]]


# --- undelete --------------------------------------------------------------------------


def test_undelete_brings_users_back_with_their_ids_and_documents(world: World,
                                                                 tmp_path: Path) -> None:
    users = world.cloud_users()[:2]
    groups_of = {u: {g for g, doc in world.stored["groups"].items()
                     if u in {m["id"] for m in doc["members"]}} for u in users}
    for user in users:
        world.graph.call("DELETE", f"users/{user}", expect=204)
        assert world.graph.get_or_none(f"users/{user}") is None

    plan = world.plan(*(PlanItem(Action.UNDELETE, "users", u, "in the recycle bin")
                        for u in users))
    # An undelete is not documented to bring back a manager (docs/emulator-writes.md):
    # the verification's second pass writes it.
    report = world.execute(plan, tmp_path / "journal.jsonl", verify=EarlierRestores())

    assert report.ok, report.to_json()
    assert report.verification is not None and report.verification.ok, report.to_json()
    assert report.counts == {"done": 2, "skipped": 0, "failed": 0, "total": 2}
    assert [item.new_id for item in report.items] == users
    assert report.id_map == {}
    select = ",".join(by_name("users").select)
    for user in users:
        live = world.graph.get(f"users/{user}", {"$select": select})
        stored = world.stored["users"][user]
        differing = {name for name in by_name("users").select
                     if live.get(name) != stored.get(name)}
        assert differing == set(), differing
        manager = world.graph.get_or_none(f"users/{user}/manager", {"$select": "id"})
        assert (manager or {}).get("id") == (stored["manager"] or {}).get("id")
        for group in groups_of[user]:
            assert user in world.members(group)


# --- re-create with edges --------------------------------------------------------------


def test_a_hard_deleted_group_is_recreated_with_its_members(world: World,
                                                            tmp_path: Path) -> None:
    group = max(world.security_groups(), key=lambda g: len(world.stored["groups"][g]["members"]))
    stored = world.stored["groups"][group]
    members = stored_edges(world, "groups", group, "members")
    owners = stored_edges(world, "groups", group, "owners")
    assert len(members) > 20, "two @odata.bind requests are wanted"
    world.hard_delete_group(group)
    # New objects cannot be linked for 5 s (emulator clock): the binds must retry.
    world.live.control("POST", "/settings", {"replication_lag_seconds": 5})
    served = len(world.log())

    plan = world.plan(recreate("groups", group, stored["displayName"]),
                      add_edges("groups", group, "members", members),
                      add_edges("groups", group, "owners", owners))
    report = world.execute(plan, tmp_path / "journal.jsonl")

    assert report.ok, report.to_json()
    new_id = report.id_map[group]
    patches = [r["status"] for r in world.log()[served:]
               if r["method"] == "PATCH" and new_id in r["path"]]
    assert 400 in patches, "the first bind met the replication lag"
    # The create binds the owners and the first members, 20 in all; the rest of the
    # members follow in PATCHes of at most 20.
    assert len(owners) < 20
    assert patches.count(204) == math.ceil((len(members) - (20 - len(owners))) / 20)
    assert new_id != group
    assert report.items[0].new_id == new_id
    live = world.graph.get(f"groups/{new_id}")
    assert (live["displayName"], live["mailNickname"]) == (stored["displayName"],
                                                           stored["mailNickname"])
    assert (live["securityEnabled"], live["mailEnabled"]) == (True, False)
    assert world.members(new_id) == set(members)
    owners_now = {o["id"] for o in world.graph.iterate(f"groups/{new_id}/owners")}
    assert owners_now == set(owners)


def test_hard_deleted_users_are_recreated_in_shared_batches_and_one_refusal_fails_alone(
        world: World, tmp_path: Path) -> None:
    # Members: a guest is invited (POST /invitations), not created.
    users = [u for u in world.cloud_users()
             if world.stored["users"][u]["userType"] == "Member"][:6]
    for user in users:
        world.hard_delete_user(user)
    # Someone took the first user's UPN since: Graph refuses that create, only that one.
    taken = world.stored["users"][users[0]]["userPrincipalName"]
    squatter = world.tenant.create_user(taken.split("@")[0])
    served = len(world.log())

    report = world.execute(world.plan(*(recreate("users", u) for u in users)),
                           tmp_path / "journal.jsonl")

    records = world.log()[served:]
    envelopes = [r for r in records if r["path"] == "/$batch"]
    creates = [r for r in records if r["method"] == "POST" and r["path"] == "/users"]
    assert len(envelopes) == 1 and len(creates) == 6, "six creates in one $batch"
    by_user = {i.object_id: i for i in report.items}
    refused = by_user[users[0]]
    assert (refused.outcome, refused.error_status) == ("failed", 400)
    assert "already exists" in (refused.error_message or "")
    assert set(report.id_map) == set(users[1:])
    for user in users[1:]:
        assert by_user[user].outcome == "done"
        live = world.graph.get(f"users/{report.id_map[user]}")
        assert live["userPrincipalName"] == world.stored["users"][user]["userPrincipalName"]
    assert world.count("users", f"userPrincipalName eq '{taken}'") == 1
    assert world.graph.get(f"users/{squatter}")["userPrincipalName"] == taken


def test_a_default_password_the_tenant_rejects_fails_each_user_with_graphs_reason(
        world: World, tmp_path: Path) -> None:
    users = world.cloud_users()[:2]
    for user in users:
        world.hard_delete_user(user)

    report = world.execute(world.plan(*(recreate("users", u) for u in users)),
                           tmp_path / "journal.jsonl", default_password="password")

    assert report.counts == {"done": 0, "skipped": 0, "failed": 2, "total": 2}
    for result in report.items:
        assert result.error_status == 400
        assert "password complexity" in (result.error_message or "")
    assert report.id_map == {}
    # With an acceptable password the same journal completes the run.
    again = world.execute(world.plan(*(recreate("users", u) for u in users)),
                          tmp_path / "journal.jsonl")
    assert again.ok and set(again.id_map) == set(users)


def test_a_group_whose_create_binding_is_refused_is_created_without_and_completed(
        world: World, tmp_path: Path) -> None:
    group = max(world.security_groups(), key=lambda g: len(world.stored["groups"][g]["members"]))
    members = stored_edges(world, "groups", group, "members")
    world.hard_delete_group(group)
    plan = world.plan(recreate("groups", group),
                      add_edges("groups", group, "members", members))
    # A member the create would bind is deleted for good after the plan was made.
    gone = next(m for m in sorted(members) if m in world.cloud_users())
    world.hard_delete_user(gone)

    report = world.execute(plan, tmp_path / "journal.jsonl")

    created, edges = report.items
    assert created.outcome == "done" and "created-without-bindings" in created.flags
    assert any("created without its first owners and members" in n for n in created.notes)
    assert edges.outcome == "failed" and edges.reason.startswith(f"1 of {len(members)} edges")
    assert world.members(report.id_map[group]) == set(members) - {gone}


# --- update ----------------------------------------------------------------------------


def test_update_sets_back_changed_properties(world: World, tmp_path: Path) -> None:
    users = [u for u in world.cloud_users()
             if world.stored["users"][u]["jobTitle"] and world.stored["users"][u]["department"]]
    changed = users[:2]
    for user in changed:
        world.tenant.patch(f"users/{user}", {"jobTitle": "Changed", "department": "Elsewhere"})
    stored_policy = world.stored["authorizationPolicy"]
    policy_id, policy = next(iter(stored_policy.items()))
    other = "none" if policy["allowInvitesFrom"] != "none" else "everyone"
    world.tenant.patch("policies/authorizationPolicy", {"allowInvitesFrom": other})
    served = len(world.log())

    plan = world.plan(
        *(PlanItem(Action.UPDATE, "users", u, "properties changed", live_id=u,
                   properties=("department", "jobTitle")) for u in changed),
        PlanItem(Action.UPDATE, "authorizationPolicy", policy_id, "properties changed",
                 live_id=policy_id, properties=("allowInvitesFrom",)))
    report = world.execute(plan, tmp_path / "journal.jsonl")

    assert report.ok, report.to_json()
    assert report.counts["done"] == 3
    sent = [(r["method"], r["in_batch"]) for r in world.log()[served:]]
    assert sent.count(("PATCH", True)) == 2, "the two user updates went in one $batch"
    assert ("PATCH", False) in sent, "the singleton alone"
    for user in changed:
        live = world.graph.get(f"users/{user}", {"$select": "jobTitle,department"})
        stored = world.stored["users"][user]
        assert (live["jobTitle"], live["department"]) == (stored["jobTitle"],
                                                          stored["department"])
    assert world.graph.get("policies/authorizationPolicy")["allowInvitesFrom"] == \
        policy["allowInvitesFrom"]


# --- applications and relationships ---------------------------------------------------


def test_applications_are_recreated_with_new_app_ids_and_their_assignments(
        world: World, tmp_path: Path) -> None:
    apps = {a["displayName"]: i for i, a in world.stored["applications"].items()}
    sps = {s["appId"]: i for i, s in world.stored["servicePrincipals"].items()}
    chosen = [apps["Inventory Tracker"], apps["HR Self Service"]]
    items: list[PlanItem] = []
    for app in chosen:
        stored_app = world.stored["applications"][app]
        sp = sps[stored_app["appId"]]
        world.graph.call("DELETE", f"applications/{app}", expect=204)  # the SP goes too
        world.graph.call("DELETE", f"directory/deletedItems/{app}", expect=204)
        world.graph.call("DELETE", f"directory/deletedItems/{sp}", expect=204)
        items += [recreate("applications", app), recreate("servicePrincipals", sp),
                  add_edges("applications", app, "owners",
                            stored_edges(world, "applications", app, "owners")),
                  add_edges("servicePrincipals", sp, "owners",
                            stored_edges(world, "servicePrincipals", sp, "owners"))]
        assignments = stored_edges(world, "servicePrincipals", sp, "appRoleAssignedTo")
        if assignments:
            items.append(add_edges("servicePrincipals", sp, "appRoleAssignedTo", assignments))
    items.append(add_edges("servicePrincipals", sps[world.stored["applications"][chosen[0]]
                                                    ["appId"]], "appRoleAssignments", ["x"]))

    report = world.execute(world.plan(*items), tmp_path / "journal.jsonl")

    assert report.ok, report.to_json()
    assert report.counts["skipped"] == 1, "appRoleAssignments are written from the resource"
    for app in chosen:
        stored_app = world.stored["applications"][app]
        old_app_id, sp = stored_app["appId"], sps[stored_app["appId"]]
        new_app_id = report.app_id_map[old_app_id]
        live_app = world.graph.get(f"applications/{report.id_map[app]}")
        assert live_app["appId"] == new_app_id != old_app_id
        assert live_app["displayName"] == stored_app["displayName"]
        assert live_app["identifierUris"] == [u.replace(old_app_id, new_app_id)
                                              for u in stored_app["identifierUris"]]
        assert live_app["passwordCredentials"] == []
        assert [k["keyId"] for k in live_app["keyCredentials"]] == \
            [k["keyId"] for k in stored_app["keyCredentials"] if k.get("key")]
        live_sp = world.graph.get(f"servicePrincipals/{report.id_map[sp]}")
        assert live_sp["appId"] == new_app_id
        owners = {o["id"] for o in world.graph.iterate(
            f"applications/{report.id_map[app]}/owners")}
        assert owners == set(stored_edges(world, "applications", app, "owners"))
        stored_assignments = world.stored["servicePrincipals"][sp]["appRoleAssignedTo"]
        live_assignments = world.graph.iterate(
            f"servicePrincipals/{report.id_map[sp]}/appRoleAssignedTo")
        assert sorted((a["principalId"], a["appRoleId"]) for a in live_assignments) == \
            sorted((a["principalId"], a["appRoleId"]) for a in stored_assignments)
    secrets = [i.object_id for i in report.needs_new_secrets]
    assert secrets == [a for a in chosen if world.stored["applications"][a]
                       ["passwordCredentials"]]
    assert report.to_json()["needs_new_client_secrets"]


def test_links_are_added_and_removed(world: World, tmp_path: Path) -> None:
    units = {u["displayName"]: i for i, u in world.stored["administrativeUnits"].items()}
    unit = units["Executives"]
    stored_unit = world.stored["administrativeUnits"][unit]
    member = stored_unit["members"][0]["id"]
    scoped = stored_unit["scopedRoleMembers"][0]
    world.tenant.remove_link(f"directory/administrativeUnits/{unit}/members", member)
    world.graph.call("DELETE", f"directory/administrativeUnits/{unit}/scopedRoleMembers/"
                     f"{scoped['id']}", expect=204)
    managed = next(u for u in world.cloud_users() if world.stored["users"][u]["manager"])
    manager = world.stored["users"][managed]["manager"]["id"]
    world.graph.call("DELETE", f"users/{managed}/manager/$ref", expect=204)
    group = world.security_groups()[0]
    outsider = next(u for u in world.cloud_users() if u not in world.members(group))
    world.tenant.add_link(f"groups/{group}/members", outsider)
    newcomer = world.tenant.create_user("restore.newcomer")

    plan = world.plan(
        add_edges("administrativeUnits", unit, "members", [member]),
        add_edges("administrativeUnits", unit, "scopedRoleMembers", [scoped["id"]]),
        add_edges("users", managed, "manager", [manager]),
        PlanItem(Action.REMOVE_EDGES, "groups", group, "added after the snapshot",
                 relationship="members", edges=(outsider,)),
        PlanItem(Action.REMOVE, "users", newcomer, "created after the snapshot"))
    report = world.execute(plan, tmp_path / "journal.jsonl")

    assert report.ok, report.to_json()
    unit_members = {m["id"] for m in world.graph.iterate(
        f"directory/administrativeUnits/{unit}/members")}
    assert member in unit_members
    roles = world.graph.iterate(f"directory/administrativeUnits/{unit}/scopedRoleMembers")
    assert (scoped["roleId"], scoped["roleMemberInfo"]["id"]) in {
        (r["roleId"], r["roleMemberInfo"]["id"]) for r in roles}
    assert world.graph.get(f"users/{managed}/manager")["id"] == manager
    assert outsider not in world.members(group)
    assert world.graph.get_or_none(f"users/{newcomer}") is None
    assert world.graph.get_or_none(f"directory/deletedItems/{newcomer}") is not None
    # Run again with a new journal: every link exists or is gone already; all done.
    again = world.execute(plan, tmp_path / "second.jsonl")
    assert again.ok, again.to_json()


# --- resuming --------------------------------------------------------------------------


class Killed(Exception):
    """Raised from the progress callback: the process dies after some items."""


def killer(after: int) -> Any:
    seen: list[str] = []

    def progress(item: PlanItem, outcome: str) -> None:
        seen.append(outcome)
        if len(seen) >= after:
            raise Killed

    return progress


def test_a_killed_restore_resumes_from_its_journal_without_duplicates(
        world: World, tmp_path: Path) -> None:
    group = world.security_groups()[0]
    stored = world.stored["groups"][group]
    members = stored_edges(world, "groups", group, "members")
    user = next(m for m in members if m in world.cloud_users())
    upn = world.stored["users"][user]["userPrincipalName"]
    nickname = stored["mailNickname"]
    groups_before = world.count("groups", f"mailNickname eq '{nickname}'")
    world.hard_delete_group(group)
    world.hard_delete_user(user)

    plan = world.plan(recreate("users", user), recreate("groups", group),
                      add_edges("groups", group, "members", members))
    journal = tmp_path / "journal.jsonl"
    with pytest.raises(Killed):
        world.execute(plan, journal, progress=killer(1))
    with pytest.raises(Killed):
        world.execute(plan, journal, progress=killer(1))
    seen: list[str] = []
    report = world.execute(plan, journal, progress=lambda item, outcome: seen.append(outcome))

    assert report.ok, report.to_json()
    assert seen == ["done"], "only the last item is left for the third run"
    assert [item.resumed for item in report.items] == [True, True, False]
    assert world.count("users", f"userPrincipalName eq '{upn}'") == 1
    assert world.count("groups", f"mailNickname eq '{nickname}'") == groups_before
    new_user, new_group = report.id_map[user], report.id_map[group]
    assert world.members(new_group) == {new_user if m == user else m for m in members}
    # A fourth run has nothing left to do and writes nothing.
    before = world.writes()
    again = world.execute(plan, journal)
    assert again.ok and all(item.resumed for item in again.items)
    assert again.id_map == report.id_map
    assert world.writes() == before


ANSWERLESS = {
    # The run died after Graph created the group and before the journal said so.
    "sent-not-journaled": lambda key: JournalEntry(key, STARTED),
    # Graph answered 500, yet created the group (it happens): the run journaled a failure.
    "server-error": lambda key: JournalEntry(
        key, FINISHED, "failed", reason="Graph answered 500",
        error={"status": 500, "code": "InternalServerError", "message": "try again"}),
}


@pytest.mark.parametrize("journaled", sorted(ANSWERLESS))
def test_a_recreation_that_may_have_landed_is_found_not_duplicated(
        world: World, tmp_path: Path, journaled: str) -> None:
    group = world.security_groups()[0]
    stored = world.stored["groups"][group]
    nickname = stored["mailNickname"]
    world.hard_delete_group(group)
    plan = world.plan(recreate("groups", group))
    journal = tmp_path / "journal.jsonl"
    log = Journal.open(journal, {"tenant": plan.tenant, "snapshot": plan.snapshot,
                                 "plan_created_at": plan.created_at},
                       JournalSeal.for_journal(world.repo.keys, plan.tenant, plan.snapshot,
                                               journal))
    log.record(ANSWERLESS[journaled](item_keys(plan.ordered())[0]))
    log.close()
    landed = world.graph.call("POST", "groups", {
        "displayName": stored["displayName"], "mailNickname": nickname,
        "mailEnabled": False, "securityEnabled": True}, expect=201)["id"]

    report = world.execute(plan, journal)

    assert report.ok, report.to_json()
    assert report.id_map == {group: landed}
    assert world.count("groups", f"mailNickname eq '{nickname}'") == 1


def test_a_journal_of_another_plan_is_refused(world: World, tmp_path: Path) -> None:
    journal = tmp_path / "journal.jsonl"
    skip = PlanItem(Action.SKIP, "devices", DEVICE, "nothing to do")
    assert world.execute(world.plan(skip), journal).counts["skipped"] == 1
    other = RestorePlan(tenant=TENANT, snapshot=world.snapshot.id,
                        created_at="2026-08-02T10:00:00+00:00", options={}, items=[skip])
    with pytest.raises(UsageError, match="another restore plan"):
        world.execute(other, journal)


# --- refused before any write ----------------------------------------------------------


def test_recreating_users_without_a_default_password_writes_nothing(world: World,
                                                                   tmp_path: Path) -> None:
    user = world.cloud_users()[0]
    group = world.security_groups()[0]
    world.hard_delete_user(user)
    plan = world.plan(PlanItem(Action.UNDELETE, "groups", group, "first"),
                      recreate("users", user))
    before = world.writes()
    journal = tmp_path / "journal.jsonl"
    for password in (None, ""):
        with pytest.raises(UsageError, match="default password"):
            world.execute(plan, journal, default_password=password)
    assert world.writes() == before
    assert not journal.exists()


# --- Conditional Access ----------------------------------------------------------------


def test_a_policy_is_recreated_report_only_with_references_remapped(world: World,
                                                                    tmp_path: Path) -> None:
    policies = world.stored["conditionalAccessPolicies"]
    policy_id, policy = next(
        (i, p) for i, p in sorted(policies.items())
        if p["state"] == "enabled" and p["conditions"]["users"]["excludeGroups"]
        and (p["conditions"].get("locations") or {}).get("includeLocations"))
    group = policy["conditions"]["users"]["excludeGroups"][0]
    location = policy["conditions"]["locations"]["includeLocations"][0]
    members = stored_edges(world, "groups", group, "members")
    world.graph.call("DELETE", f"identity/conditionalAccess/policies/{policy_id}", expect=204)
    world.graph.call("DELETE", f"identity/conditionalAccess/namedLocations/{location}",
                     expect=204)
    world.hard_delete_group(group)

    plan = world.plan(recreate("conditionalAccessPolicies", policy_id, policy["displayName"]),
                      recreate("namedLocations", location), recreate("groups", group),
                      add_edges("groups", group, "members", members))
    report = world.execute(plan, tmp_path / "journal.jsonl")

    assert report.ok, report.to_json()
    assert [i.type for i in report.items] == ["groups", "namedLocations",
                                              "conditionalAccessPolicies", "groups"]
    new_policy = report.id_map[policy_id]
    live = world.graph.get(f"identity/conditionalAccess/policies/{new_policy}")
    assert live["displayName"] == policy["displayName"]
    assert live["state"] == REPORT_ONLY
    users = live["conditions"]["users"]
    assert users["excludeGroups"] == [report.id_map[group]]
    assert users["excludeUsers"] == policy["conditions"]["users"]["excludeUsers"]
    assert live["conditions"]["locations"]["includeLocations"] == [report.id_map[location]]
    assert live["grantControls"] == policy["grantControls"]
    named = world.graph.get(f"identity/conditionalAccess/namedLocations/"
                            f"{report.id_map[location]}")
    assert named["@odata.type"] == world.stored["namedLocations"][location]["@odata.type"]
    assert [i.object_id for i in report.needs_enabling] == [policy_id]
    assert report.to_json()["needs_enabling"][0]["new_id"] == new_policy


def test_policies_can_be_recreated_in_their_backed_up_state(world: World,
                                                          tmp_path: Path) -> None:
    policies = world.stored["conditionalAccessPolicies"]
    policy_id = next(i for i, p in sorted(policies.items()) if p["state"] == "enabled"
                     and not p["conditions"]["users"]["excludeGroups"])
    world.graph.call("DELETE", f"identity/conditionalAccess/policies/{policy_id}", expect=204)
    report = world.execute(world.plan(recreate("conditionalAccessPolicies", policy_id)),
                           tmp_path / "journal.jsonl", ca_state="as-backed-up")
    assert report.ok, report.to_json()
    live = world.graph.get(f"identity/conditionalAccess/policies/{report.id_map[policy_id]}")
    assert live["state"] == "enabled"
    assert report.needs_enabling == []


# --- failures --------------------------------------------------------------------------


def test_failures_are_reported_with_graphs_error_and_the_rest_is_done(world: World,
                                                                     tmp_path: Path) -> None:
    synced = world.synced_users()[0]
    cloud = next(u for u in world.cloud_users() if world.stored["users"][u]["jobTitle"])
    world.tenant.patch(f"users/{cloud}", {"jobTitle": "Changed"})
    mail_enabled = next(i for i, g in sorted(world.stored["groups"].items())
                        if g["mailEnabled"] and not g["groupTypes"]
                        and not g["onPremisesSyncEnabled"])
    members = stored_edges(world, "groups", mail_enabled, "members")[:3]

    plan = world.plan(
        PlanItem(Action.UPDATE, "users", synced, "properties changed", live_id=synced,
                 properties=("jobTitle",)),
        PlanItem(Action.UPDATE, "users", cloud, "properties changed", live_id=cloud,
                 properties=("jobTitle",)),
        recreate("groups", mail_enabled),
        add_edges("groups", mail_enabled, "members", members),
        PlanItem(Action.SKIP, "devices", DEVICE, "devices re-register themselves"))
    report = world.execute(plan, tmp_path / "journal.jsonl")

    assert not report.ok
    assert report.counts == {"done": 1, "skipped": 1, "failed": 3, "total": 5}
    by_key = {(i.action, i.object_id): i for i in report.items}
    refused = by_key[("update", synced)]
    assert refused.outcome == "failed"
    assert (refused.error_status, refused.error_code) == (400, "Request_BadRequest")
    assert refused.error_message is not None and "on-premises mastered" in refused.error_message
    assert by_key[("update", cloud)].outcome == "done"
    created = by_key[("recreate", mail_enabled)]
    assert created.outcome == "failed" and created.error_code == "Request_BadRequest"
    assert "mail-enabled" in (created.error_message or "")
    edges = by_key[("add-relationships", mail_enabled)]
    assert edges.outcome == "failed"
    assert edges.reason.startswith(f"depends on {mail_enabled}, which failed")
    skipped = by_key[("skip", DEVICE)]
    assert (skipped.outcome, skipped.reason) == ("skipped", "devices re-register themselves")
    assert world.graph.get(f"users/{cloud}")["jobTitle"] == \
        world.stored["users"][cloud]["jobTitle"]

    rows = list(csv.reader(io.StringIO(report.to_csv())))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 1 + len(plan.items)
    outcome = CSV_COLUMNS.index("outcome")
    assert sorted(r[outcome] for r in rows[1:]) == ["done", "failed", "failed", "failed",
                                                    "skipped"]
    document = json.loads(json.dumps(report.to_json()))
    assert document["ok"] is False and document["counts"]["failed"] == 3

    # Run again: the failed items are tried again, the done ones are not.
    again = world.execute(plan, tmp_path / "journal.jsonl")
    assert again.counts == report.counts
    assert by_key[("update", cloud)].key in {i.key for i in again.items if i.resumed}


# --- pure helpers ----------------------------------------------------------------------


def test_ids_are_remapped_wherever_they_appear() -> None:
    old, new = "0b03af4f-9d84-486f-9481-59c7a9d563ff", "11111111-2222-3333-4444-555555555555"
    body = {"principalId": old, "directoryScopeId": f"/administrativeUnits/{old.upper()}",
            "conditions": {"users": {"includeGroups": [old, "All"]}},
            "identifierUris": [f"api://{old}"], "other": "0b03af4f"}
    assert remap_ids(body, {old: new}) == {
        "principalId": new, "directoryScopeId": f"/administrativeUnits/{new}",
        "conditions": {"users": {"includeGroups": [new, "All"]}},
        "identifierUris": [f"api://{new}"], "other": "0b03af4f"}


def test_licence_changes_are_computed_against_the_live_value() -> None:
    e3, e5, plan = "sku-e3", "sku-e5", "plan-1"
    assert license_change([{"skuId": e3, "disabledPlans": []}],
                          [{"skuId": e3, "disabledPlans": []}]) is None
    assert license_change([{"skuId": e3, "disabledPlans": [plan]}],
                          [{"skuId": e5, "disabledPlans": []}]) == {
        "addLicenses": [{"skuId": e3, "disabledPlans": [plan]}], "removeLicenses": [e5]}


def test_item_keys_are_stable_and_unique() -> None:
    items = [PlanItem(Action.ADD_EDGES, "groups", "g", "r", relationship="members",
                      edges=("b", "a")),
             PlanItem(Action.ADD_EDGES, "groups", "g", "r", relationship="members",
                      edges=("a", "b")),
             PlanItem(Action.UPDATE, "users", "u", "r", properties=("jobTitle",))]
    keys = item_keys(items)
    assert keys == item_keys(items)
    assert keys[1] == keys[0] + "#2"
    assert len(set(keys)) == 3


def test_a_torn_journal_line_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    header = {"tenant": "t", "snapshot": "s", "plan_created_at": "c"}
    seal = JournalSeal(lambda data: hashlib.sha256(b"key" + data).digest(), "r", "t", "s",
                       "run")
    log = Journal.open(path, header, seal)
    log.record(JournalEntry("a", "finished", "done", new_id="n"))
    log.close()
    with path.open("ab") as handle:
        handle.write(b'{"key": "b", "ev')
    again = Journal.open(path, header, seal)
    assert set(again.entries) == {"a"}
    again.record(JournalEntry("b", "finished", "done"))
    again.close()
    assert set(Journal.open(path, header, seal).entries) == {"a", "b"}
