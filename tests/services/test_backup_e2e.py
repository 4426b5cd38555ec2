"""The backup engine end to end: the emulator over HTTPS with MSAL tokens, a local-disk
repository and a SQLite catalog, with the tenant changed through Graph between backups.

Every snapshot is compared with the tenant as Graph lists it at that moment (the same
``$select`` lists and relationship paths), object for object. Covered: a full backup and
incremental ones over attribute, membership, owner and manager changes, creations, soft and
hard deletions (``history``); no new versions when nothing changed and one per changed
object; the catalog's search, deleted objects, changes between snapshots and a rebuilt
catalog; a group split across delta pages; expired and reset delta links; injected faults;
a token expiring mid-run; a missing permission; an interrupted backup; a locked repository.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from entra_backup.catalog import Catalog, CatalogError, VersionRow, reindex
from entra_backup.domain.object_types import TYPES
from entra_backup.services.backup.engine import (
    BackupLocked,
    BackupProgress,
    BackupSummary,
    run_backup,
)
from entra_backup.services.backup.scope import BackupScope
from entra_backup.services.catalog_sync import RepositorySource
from entra_backup.store.keys.passphrase import allow_weak_kdf_for_tests
from entra_backup.store.repository import Repository
from entra_backup.store.snapshot import Snapshot, TypeStatus
from entra_backup.store.writer import SnapshotWriter
from graph_emulator.handlers.delta import set_paging
from tests.graph.conftest import reset
from tests.services._backup_support import (
    TENANT,
    LiveGraph,
    State,
    Tenant,
    assert_snapshot_matches,
    backup,
    differences,
    graph_client,
    modes,
    new_repo,
    snapshot_state,
    state_changes,
)
from tests.store._support import reopen
from tests.support.live_emulator import LiveEmulator

allow_weak_kdf_for_tests()

DELTA_TYPES = frozenset(t.name for t in TYPES if t.delta)
OTHER_TYPES = frozenset(t.name for t in TYPES if not t.delta)
DAY = 86400.0
READ_PERMISSIONS = frozenset({t.read_permission for t in TYPES} | {"GroupMember.Read.All"})
"""What a backup app needs (the object-type table's least-privileged read permissions)."""


def start_emulator(path: Path, users: int, seed: int) -> LiveEmulator:
    return LiveEmulator.start(path, users=users, seed=seed, throttle="off")


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveEmulator]:
    """An emulator of one test: a small tenant it may change, clock and settings included."""
    emulator = start_emulator(tmp_path / "emulator", users=40, seed=31)
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def tenant(live: LiveEmulator) -> Iterator[Tenant]:
    graph = LiveGraph(live)
    try:
        yield Tenant(graph)
    finally:
        graph.close()


@pytest.fixture
def repo(tmp_path: Path) -> Repository:
    return new_repo(tmp_path / "repo")


def cloud_users(state: State) -> list[str]:
    """Users the cloud masters (writable), in id order."""
    return sorted(i for i, u in state["users"].items() if not u["onPremisesSyncEnabled"])


def assigned_groups(state: State) -> list[str]:
    """Security groups with assigned, writable membership, in id order."""
    return sorted(i for i, g in state["groups"].items()
                  if g["securityEnabled"] and not g["mailEnabled"] and not g["groupTypes"]
                  and not g["onPremisesSyncEnabled"] and not g["isAssignableToRole"])


def user_ref(user_id: str) -> dict[str, str]:
    return {"@odata.type": "#microsoft.graph.user", "id": user_id}


def by_type(keys: Iterable[tuple[str, str]]) -> Counter[str]:
    """How many of the (type, id) keys each type has."""
    return Counter(type_name for type_name, _ in keys)


def small_change(tenant: Tenant, state: State, number: int) -> None:
    """A user's job title and a group's membership change (different every time)."""
    users, groups = cloud_users(state), assigned_groups(state)
    tenant.patch(f"users/{users[number]}", {"jobTitle": f"Changed {number}"})
    group = groups[number % len(groups)]
    members = {m["id"] for m in tenant.graph.iterate(f"groups/{group}/members",
                                                      {"$select": "id"})}
    outsider = next(u for u in users if u not in members and u not in tenant.soft_deleted)
    tenant.add_link(f"groups/{group}/members", outsider)


# --- the story: full, incremental, unchanged and incremental again -------------------------


@dataclass
class Run:
    summary: BackupSummary
    snapshot: Snapshot
    expected: State
    """The tenant read through Graph right after the backup."""


@dataclass
class History:
    live: LiveEmulator
    repo: Repository
    catalog: Catalog
    tenant: Tenant
    runs: list[Run] = field(default_factory=list)
    picks: dict[str, str] = field(default_factory=dict)

    def run(self) -> Run:
        summary, snapshot = asyncio.run(backup(self.live, self.repo, self.catalog))
        self.runs.append(Run(summary, snapshot, self.tenant.state()))
        return self.runs[-1]

    def changes(self, later: int, earlier: int) -> dict[tuple[str, str], str]:
        return state_changes(self.runs[earlier].expected, self.runs[later].expected)


def first_changes(tenant: Tenant, state: State, picks: dict[str, str]) -> None:
    """Attribute changes, creations, a soft deletion, members, an owner, a manager, an app
    role assignment, and changes to types read without delta."""
    users, groups = cloud_users(state), assigned_groups(state)
    picks.update(changed=users[0], managed=users[1], soft=users[2], later_soft=users[3])
    tenant.patch(f"users/{users[0]}", {"jobTitle": "Backup Verifier", "department": "Resilience"})
    old_manager = (state["users"][users[1]]["manager"] or {}).get("id")
    picks["manager"] = next(u for u in users[4:] if u != old_manager)
    tenant.set_manager(users[1], picks["manager"])
    member_of = [g for g in groups if users[2] in {m["id"] for m in state["groups"][g]["members"]}]
    assert member_of, "the user to soft-delete should be a member of a group"
    tenant.soft_delete(f"users/{users[2]}")

    picks["created"] = tenant.create_user("backup.newcomer", jobTitle="First version")
    picks["new_group"] = tenant.create_group("backup-new-group", members=users[5:8],
                                             owners=users[8:9])
    device = tenant.graph.call("POST", "devices", {
        "accountEnabled": True, "displayName": "BACKUP-LAPTOP", "operatingSystem": "Windows",
        "operatingSystemVersion": "10.0.26100", "deviceId": "4c299165-6e8f-4b45-a5ba-c5d250a707ff",
        "alternativeSecurityIds": [{"type": 2, "key": "Y3YxN2E1MWFlYw=="}]}, expect=201)
    picks["new_device"] = device["id"]

    picks.update(with_member=groups[0], without_member=groups[1], with_owner=groups[2],
                 described=groups[3], doomed_group=groups[4])
    current = {m["id"] for m in state["groups"][groups[0]]["members"]}
    picks["added_member"] = next(u for u in users[9:] if u not in current)
    tenant.add_link(f"groups/{groups[0]}/members", picks["added_member"])
    leaving = sorted(m["id"] for m in state["groups"][groups[1]]["members"]
                     if m["id"] not in picks.values())
    picks["removed_member"] = leaving[0]
    tenant.remove_link(f"groups/{groups[1]}/members", leaving[0])
    owners = {o["id"] for o in state["groups"][groups[2]]["owners"]}
    picks["added_owner"] = next(u for u in users[9:] if u not in owners)
    tenant.add_link(f"groups/{groups[2]}/owners", picks["added_owner"])
    tenant.patch(f"groups/{groups[3]}", {"description": "Changed by the backup test"})

    cloud_devices = sorted(i for i, d in state["devices"].items()
                           if not d["onPremisesSyncEnabled"])
    picks["device"] = cloud_devices[0]
    tenant.patch(f"devices/{cloud_devices[0]}", {"displayName": "RENAMED-DEVICE"})
    tenant.add_link(f"devices/{cloud_devices[0]}/registeredOwners", users[0])

    apps = {a["displayName"]: i for i, a in state["applications"].items()}
    sps = {s["displayName"]: i for i, s in state["servicePrincipals"].items()}
    tenant.patch(f"applications/{apps['Expense Portal']}", {"notes": "Reviewed by backup"})
    tenant.patch(f"servicePrincipals/{sps['Expense Portal']}", {"notes": "SP reviewed"})
    resource = next(i for i, s in sorted(state["servicePrincipals"].items())
                    if any("User" in r["allowedMemberTypes"] for r in s["appRoles"]))
    role = next(r for r in state["servicePrincipals"][resource]["appRoles"]
                if "User" in r["allowedMemberTypes"])
    assignment = tenant.graph.call("POST", f"servicePrincipals/{resource}/appRoleAssignedTo", {
        "principalId": picks["created"], "resourceId": resource, "appRoleId": role["id"]},
        expect=201)
    picks.update(resource=resource, assignment=assignment["id"])
    units = {u["displayName"]: i for i, u in state["administrativeUnits"].items()}
    tenant.add_link(f"directory/administrativeUnits/{units['Executives']}/members", users[0])

    policies = sorted(state["conditionalAccessPolicies"].items())
    policy_id = next(i for i, p in policies if p["state"] == "disabled")
    tenant.patch(f"identity/conditionalAccess/policies/{policy_id}",
                 {"state": "enabledForReportingButNotEnforced"})
    location = next(i for i, n in sorted(state["namedLocations"].items())
                    if n["@odata.type"] == "#microsoft.graph.ipNamedLocation")
    tenant.patch(f"identity/conditionalAccess/namedLocations/{location}",
                 {"@odata.type": "#microsoft.graph.ipNamedLocation",
                  "displayName": "Renamed network"})
    tenant.patch("policies/authorizationPolicy", {"allowInvitesFrom": "everyone"})
    assigned = {(a["principalId"], a["roleDefinitionId"])
                for a in state["roleAssignments"].values()}
    definition = next(i for i, d in sorted(state["roleDefinitions"].items())
                      if d["isBuiltIn"] and (users[0], i) not in assigned)
    tenant.graph.call("POST", "roleManagement/directory/roleAssignments", {
        "principalId": users[0], "roleDefinitionId": definition, "directoryScopeId": "/"},
        expect=201)


def second_changes(tenant: Tenant, state: State, picks: dict[str, str]) -> None:
    """Hard deletions (from the recycle bin and directly), more soft deletions (a user, a
    Microsoft 365 group, an application with its service principal), member and owner
    removals, and deletions and creations among the types read without delta."""
    tenant.hard_delete(picks["soft"])
    tenant.soft_delete(f"users/{picks['later_soft']}")
    tenant.patch(f"users/{picks['created']}", {"jobTitle": "Second version"})
    tenant.graph.call("DELETE", f"groups/{picks['doomed_group']}", expect=204)  # hard
    unified = sorted(i for i, g in state["groups"].items() if "Unified" in g["groupTypes"])
    picks["soft_group"] = unified[0]
    tenant.soft_delete(f"groups/{unified[0]}")
    tenant.remove_link(f"groups/{picks['with_owner']}/owners", picks["added_owner"])
    tenant.remove_link(f"groups/{picks['new_group']}/members",
                       state["groups"][picks["new_group"]]["members"][0]["id"])
    tenant.graph.call("DELETE", f"devices/{picks['new_device']}", expect=204)

    apps = {a["displayName"]: i for i, a in state["applications"].items()}
    sps = {s["displayName"]: i for i, s in state["servicePrincipals"].items()}
    picks.update(soft_app=apps["HR Self Service"], soft_sp=sps["HR Self Service"])
    tenant.remember_edges("servicePrincipals", sps["HR Self Service"])
    tenant.soft_delete(f"applications/{apps['HR Self Service']}")
    tenant.graph.call("DELETE", f"servicePrincipals/{picks['resource']}/appRoleAssignedTo/"
                      f"{picks['assignment']}", expect=204)
    role = sorted(state["directoryRoles"])[0]
    members = {m["id"] for m in state["directoryRoles"][role]["members"]}
    tenant.add_link(f"directoryRoles/{role}/members",
                    next(u for u in cloud_users(state) if u not in members
                         and u not in tenant.soft_deleted))
    grant = sorted(state["oauth2PermissionGrants"])[0]
    tenant.patch(f"oauth2PermissionGrants/{grant}", {"scope": "User.Read Mail.Read"})

    policy = sorted(state["conditionalAccessPolicies"])[0]
    tenant.graph.call("DELETE", f"identity/conditionalAccess/policies/{policy}", expect=204)
    tenant.graph.call("POST", "identity/conditionalAccess/namedLocations", {
        "@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": "Backup site",
        "isTrusted": False, "ipRanges": [{"@odata.type": "#microsoft.graph.iPv4CidrRange",
                                          "cidrAddress": "203.0.113.0/24"}]}, expect=201)
    assignment = sorted(state["roleAssignments"])[0]
    tenant.graph.call("DELETE", f"roleManagement/directory/roleAssignments/{assignment}",
                      expect=204)
    tenant.graph.call("POST", "roleManagement/directory/roleDefinitions", {
        "displayName": "Backup Helpdesk", "isEnabled": True, "rolePermissions": [
            {"allowedResourceActions": ["microsoft.directory/users/basic/update"]}]},
        expect=201)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    """Four backups of one tenant: full; after many changes; unchanged; after deletions."""
    path = tmp_path_factory.mktemp("story")
    live = start_emulator(path / "emulator", users=60, seed=21)
    graph = LiveGraph(live)
    catalog = Catalog.open(f"sqlite:///{path / 'catalog.db'}")
    story = History(live, new_repo(path / "repo"), catalog, Tenant(graph))
    try:
        first = story.run()
        first_changes(story.tenant, first.expected, story.picks)
        second = story.run()
        story.run()
        second_changes(story.tenant, second.expected, story.picks)
        story.run()
        yield story
    finally:
        catalog.close()
        graph.close()
        live.stop()


def test_every_snapshot_holds_the_tenant_as_graph_listed_it(history: History) -> None:
    for run in history.runs:
        problems = differences(run.expected, snapshot_state(history.repo, run.snapshot))
        assert not problems, "\n".join(problems[:40])
        assert not run.summary.partial
        assert set(run.snapshot.types) >= {t.name for t in TYPES}


def test_the_changes_reached_the_snapshots(history: History) -> None:
    """The story's changes happened, so the comparisons above are about something."""
    picks, runs = history.picks, history.runs
    stored = [snapshot_state(history.repo, run.snapshot) for run in runs]
    users = [s["users"] for s in stored]
    assert users[1][picks["changed"]]["jobTitle"] == "Backup Verifier"
    assert users[1][picks["managed"]]["manager"] == user_ref(picks["manager"])
    assert picks["soft"] in users[0] and picks["soft"] not in users[1]
    assert users[1][picks["created"]]["jobTitle"] == "First version"
    assert users[3][picks["created"]]["jobTitle"] == "Second version"
    assert picks["later_soft"] not in users[3]
    groups = [s["groups"] for s in stored]
    assert user_ref(picks["added_member"]) in groups[1][picks["with_member"]]["members"]
    assert user_ref(picks["removed_member"]) in groups[0][picks["without_member"]]["members"]
    assert user_ref(picks["removed_member"]) not in groups[1][picks["without_member"]]["members"]
    assert user_ref(picks["added_owner"]) in groups[1][picks["with_owner"]]["owners"]
    assert user_ref(picks["added_owner"]) not in groups[3][picks["with_owner"]]["owners"]
    soft_members = {g for g, doc in groups[1].items() if user_ref(picks["soft"]) in doc["members"]}
    assert soft_members, "a soft-deleted user stays a member until it is hard-deleted"
    assert not any(user_ref(picks["soft"]) in doc["members"] for doc in groups[3].values())
    assert picks["doomed_group"] in groups[2] and picks["doomed_group"] not in groups[3]
    assert picks["soft_group"] not in groups[3]
    assert groups[1][picks["described"]]["description"] == "Changed by the backup test"
    device = stored[1]["devices"][picks["device"]]
    assert device["displayName"] == "RENAMED-DEVICE"
    assert user_ref(picks["changed"]) in device["registeredOwners"]
    assert picks["new_device"] in stored[1]["devices"]
    assert picks["new_device"] not in stored[3]["devices"]
    assert picks["soft_app"] not in stored[3]["applications"]
    assert picks["soft_sp"] not in stored[3]["servicePrincipals"]
    assigned = [{a["id"] for a in s["servicePrincipals"][picks["resource"]]["appRoleAssignedTo"]}
                for s in stored]
    assert picks["assignment"] not in assigned[0]
    assert picks["assignment"] in assigned[1]
    assert picks["assignment"] not in assigned[3]
    for later, earlier in ((1, 0), (3, 2)):
        touched = by_type(history.changes(later, earlier))
        assert set(touched) >= {"users", "groups", "devices", "servicePrincipals",
                                "conditionalAccessPolicies", "namedLocations",
                                "roleAssignments"}, touched


def test_the_first_backup_is_full_and_later_ones_read_delta(history: History) -> None:
    first, *later = history.runs
    assert set(modes(first.summary).values()) == {"full"}
    for run in later:
        found = modes(run.summary)
        assert {found[name] for name in DELTA_TYPES} == {"delta"}
        assert {found[name] for name in OTHER_TYPES} == {"full"}


def test_an_unchanged_tenant_stores_no_new_version(history: History) -> None:
    second, third = history.runs[1], history.runs[2]
    assert third.expected == second.expected
    assert third.summary.to_json()["new_versions"] == 0
    assert set(modes(third.summary)[name] for name in DELTA_TYPES) == {"delta"}
    for name in DELTA_TYPES:
        entry = third.snapshot.types[name]
        assert entry.manifest == second.snapshot.types[name].manifest
        assert entry.count == len(third.expected[name])
    assert history.catalog.changed_between(second.snapshot.id, third.snapshot.id) == []


def test_each_changed_object_gets_exactly_one_new_version(history: History) -> None:
    for later in (1, 3):
        run, before = history.runs[later], history.runs[later - 1]
        changes = history.changes(later, later - 1)
        written = {(t, i) for (t, i), change in changes.items() if change != "removed"}
        stored = {o.name: o.new_versions for o in run.summary.types}
        assert {t: n for t, n in stored.items() if n} == dict(by_type(written))
        removed = Counter(t for (t, _), change in changes.items() if change == "removed")
        assert {o.name: o.removed for o in run.summary.types
                if o.name in DELTA_TYPES and o.removed} == {
            t: n for t, n in removed.items() if t in DELTA_TYPES}
        now = {(v.type, v.object_id): v for v in history.catalog.versions_at(run.snapshot.id)}
        then = {(v.type, v.object_id): v
                for v in history.catalog.versions_at(before.snapshot.id)}
        for key, version in now.items():
            if key in written:
                assert version.first_snapshot == run.snapshot.id, key
            else:
                assert version == then[key], key
        for _, object_id in written:
            timeline = history.catalog.timeline(object_id, TENANT)
            assert [v.first_snapshot for v in timeline].count(run.snapshot.id) == 1


def test_the_catalog_finds_versions_and_deleted_objects(history: History) -> None:
    runs, picks, catalog = history.runs, history.picks, history.catalog
    user = runs[0].expected["users"][picks["changed"]]
    hits = catalog.search(user["userPrincipalName"], tenant=TENANT, type="users")
    assert [(h.object_id, h.first_snapshot, h.last_snapshot) for h in hits] == [
        (picks["changed"], runs[0].snapshot.id, runs[0].snapshot.id),
        (picks["changed"], runs[1].snapshot.id, None)]
    assert hits[0].version_hash != hits[1].version_hash
    assert not any(h.deleted for h in hits)

    gone = {(t, i) for later in range(1, len(runs))
            for (t, i), change in history.changes(later, later - 1).items()
            if change == "removed"}
    deleted = catalog.search(deleted_only=True, tenant=TENANT, limit=10_000)
    assert {(h.type, h.object_id) for h in deleted} == gone
    assert {("users", picks["soft"]), ("users", picks["later_soft"]),
            ("groups", picks["doomed_group"]), ("groups", picks["soft_group"]),
            ("devices", picks["new_device"]), ("applications", picks["soft_app"]),
            ("servicePrincipals", picks["soft_sp"])} <= gone
    soft = next(h for h in deleted if h.object_id == picks["soft"])
    assert soft.last_snapshot == runs[0].snapshot.id
    assert soft.deleted_at == runs[1].snapshot.time


def test_changed_between_lists_exactly_what_changed(history: History) -> None:
    runs, catalog = history.runs, history.catalog
    for earlier in range(len(runs) - 1):
        found = {(c.type, c.object_id): c.change
                 for c in catalog.changed_between(runs[earlier].snapshot.id,
                                                  runs[earlier + 1].snapshot.id)}
        assert found == history.changes(earlier + 1, earlier), earlier
    first = {(c.type, c.object_id): c for c in catalog.changed_between(
        runs[0].snapshot.id, runs[1].snapshot.id)}
    changed = first[("users", history.picks["changed"])]
    assert changed.before_hash != changed.after_hash
    assert first[("users", history.picks["created"])].change == "added"
    assert first[("users", history.picks["soft"])].change == "removed"


def test_changed_between_distant_snapshots_leaves_out_objects_changed_back(
        history: History) -> None:
    runs = history.runs
    found = {(c.type, c.object_id): c.change
             for c in history.catalog.changed_between(runs[0].snapshot.id, runs[3].snapshot.id)}
    assert found == history.changes(3, 0)


def test_a_reindexed_catalog_answers_like_the_incremental_one(
        history: History, tmp_path: Path) -> None:
    rebuilt = Catalog.open(f"sqlite:///{tmp_path / 'rebuilt.db'}")
    try:
        assert reindex(rebuilt, RepositorySource(history.repo)) == len(history.runs)
        assert_same_answers(history, history.catalog, rebuilt)
    finally:
        rebuilt.close()


def assert_same_answers(history: History, built: Catalog, rebuilt: Catalog) -> None:
    ids = [run.snapshot.id for run in history.runs]
    assert rebuilt.snapshot_ids(TENANT) == built.snapshot_ids(TENANT) == ids
    every_id: set[str] = set()
    for snapshot_id in ids:
        rows: list[VersionRow] = list(built.versions_at(snapshot_id))
        assert list(rebuilt.versions_at(snapshot_id)) == rows
        every_id |= {row.object_id for row in rows}
    for object_id in sorted(every_id):
        assert rebuilt.timeline(object_id, TENANT) == built.timeline(object_id, TENANT)
    user = history.runs[0].expected["users"][history.picks["changed"]]
    for query, options in (("", {}), (user["displayName"], {}), ("backup", {}),
                           ("", {"deleted_only": True}), ("", {"type": "groups"})):
        assert rebuilt.search(query, limit=10_000, **options) == \
            built.search(query, limit=10_000, **options), (query, options)
    for earlier in ids:
        for later in ids:
            assert rebuilt.changed_between(earlier, later) == \
                built.changed_between(earlier, later)


# --- paging, expiry, faults, tokens, permissions ------------------------------------------


async def test_a_large_group_split_over_delta_pages_keeps_every_member(
        tmp_path: Path) -> None:
    live = start_emulator(tmp_path / "emulator", users=80, seed=41)
    graph = LiveGraph(live)
    try:
        tenant, repo = Tenant(graph), new_repo(tmp_path / "repo")
        users = cloud_users(tenant.state(["users"]))
        everyone = sorted(tenant.state(["users"])["users"])
        big = tenant.create_group("backup-big-group", members=everyone[:20])
        for start in range(20, len(everyone), 20):
            tenant.patch(f"groups/{big}", {"members@odata.bind": [
                f"{live.graph_url}/directoryObjects/{u}" for u in everyone[start:start + 20]]})
        set_paging(live.runtime.emulator, page_size=4, member_budget=7)

        summary, snapshot = await backup(live, repo)
        stored = repo.get(snapshot, "groups", big)["members"]
        assert [m["id"] for m in stored] == everyone
        groups = next(o for o in summary.types if o.name == "groups")
        assert groups.read >= groups.objects + len(everyone) // 7 - 1  # sent page by page
        assert_snapshot_matches(repo, snapshot, tenant)

        leaving = users[:12]
        for user in leaving:
            tenant.remove_link(f"groups/{big}/members", user)
        joining = [tenant.create_user(f"backup.joiner{n}") for n in range(15)]
        for start in range(0, len(joining), 20):
            tenant.patch(f"groups/{big}", {"members@odata.bind": [
                f"{live.graph_url}/directoryObjects/{u}" for u in joining[start:start + 20]]})
        summary, snapshot = await backup(live, repo)
        assert modes(summary)["groups"] == "delta"
        stored = repo.get(snapshot, "groups", big)["members"]
        assert [m["id"] for m in stored] == sorted(set(everyone) - set(leaving) | set(joining))
        groups = next(o for o in summary.types if o.name == "groups")
        assert groups.read > 3 and groups.new_versions == 1
        assert_snapshot_matches(repo, snapshot, tenant)
    finally:
        graph.close()
        live.stop()


async def test_an_expired_or_reset_delta_link_makes_the_next_backup_read_fully(
        live: LiveEmulator, tenant: Tenant, repo: Repository) -> None:
    _, snapshot = await backup(live, repo)
    state = tenant.state()
    small_change(tenant, state, 0)
    live.control("POST", "/clock/advance", {"seconds": 8 * DAY})  # delta links last 7 days

    summary, snapshot = await backup(live, repo)
    assert not summary.partial
    assert {modes(summary)[name] for name in DELTA_TYPES} == {"full"}
    assert {o.name: o.new_versions for o in summary.types if o.new_versions} == \
        {"users": 1, "groups": 1}  # a full read stores only what changed
    assert_snapshot_matches(repo, snapshot, tenant)

    small_change(tenant, state, 1)
    summary, snapshot = await backup(live, repo)
    assert {modes(summary)[name] for name in DELTA_TYPES} == {"delta"}
    assert_snapshot_matches(repo, snapshot, tenant)

    small_change(tenant, state, 2)
    live.control("POST", "/delta/reset", {})  # every earlier token now answers 410
    summary, snapshot = await backup(live, repo)
    assert not summary.partial
    assert {modes(summary)[name] for name in DELTA_TYPES} == {"full"}
    assert_snapshot_matches(repo, snapshot, tenant)

    small_change(tenant, state, 3)
    summary, snapshot = await backup(live, repo)
    assert {modes(summary)[name] for name in DELTA_TYPES} == {"delta"}
    assert_snapshot_matches(repo, snapshot, tenant)


async def test_injected_faults_are_retried_and_the_backups_are_complete(
        live: LiveEmulator, tenant: Tenant, tmp_path: Path) -> None:
    app = live.control("POST", "/apps", {"tenant_id": live.tenant_id,
                                         "permissions": sorted(READ_PERMISSIONS)})
    credentials = {"client_id": app["client_id"], "credential": app["client_secret"]}
    repo = new_repo(tmp_path / "repo")
    summaries = []
    for seed in (8, 9):
        live.control("POST", "/settings", {"fault_rate": 0.3, "seed": seed})
        try:
            summary, snapshot = await backup(live, repo, timeout=1.0, **credentials)
            settings = live.control("GET", "/settings")
        finally:
            reset(live)
        assert not summary.partial, [(o.name, o.message) for o in summary.types if o.message]
        assert_snapshot_matches(repo, snapshot, tenant)
        summaries.append(summary)
        small_change(tenant, tenant.state(), seed)
    first, second = summaries
    assert set(modes(first).values()) == {"full"}
    assert {modes(second)[name] for name in DELTA_TYPES} == {"delta"}
    assert sum(settings["faults_injected"].values()) > 10
    assert first.graph["retries"] > 0 and second.graph["retries"] > 0
    # Not asserted: the emulator's count of requests sent before a Retry-After. A slow
    # answer outlives the client's 1 s timeout, so a 429 inside it never reaches the client,
    # yet the emulator holds the app to its Retry-After.


async def test_a_token_expiring_mid_run_is_renewed(
        live: LiveEmulator, tenant: Tenant, repo: Repository) -> None:
    await backup(live, repo)
    small_change(tenant, tenant.state(), 0)
    advanced: list[str] = []

    def read(name: str, count: int) -> None:
        if not advanced:  # after the first page: the token outlives its hour
            advanced.append(name)
            live.control("POST", "/clock/advance", {"seconds": 2 * 3600})

    async with graph_client(live) as client:
        summary = await run_backup(client, repo, TENANT, BackupScope(),
                                   progress=BackupProgress(read=read))
        assert client.tokens is not None and client.tokens.acquisitions >= 2
    assert advanced and not summary.partial
    assert {modes(summary)[name] for name in DELTA_TYPES} == {"delta"}
    assert_snapshot_matches(repo, repo.load_snapshot(summary.snapshot_id), tenant)


async def test_a_missing_permission_skips_devices_and_the_next_backup_reads_them(
        live: LiveEmulator, tenant: Tenant, repo: Repository, tmp_path: Path) -> None:
    app = live.control("POST", "/apps", {
        "tenant_id": live.tenant_id,
        "permissions": sorted(READ_PERMISSIONS - {"Device.Read.All"})})
    catalog = Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}")
    try:
        first, snapshot = await backup(live, repo, catalog, client_id=app["client_id"],
                                       credential=app["client_secret"])
        devices = next(o for o in first.types if o.name == "devices")
        assert (devices.status, devices.mode) == ("skipped", "none")
        assert devices.message is not None and "Device.Read.All" in devices.message
        assert first.partial and first.to_json()["partial"] is True
        assert snapshot.types["devices"].status is TypeStatus.SKIPPED
        assert snapshot.types["devices"].manifest is None
        assert "Device.Read.All" in (snapshot.types["devices"].message or "")
        assert {o.status for o in first.types if o.name != "devices"} == {"ok"}
        others = [t.name for t in TYPES if t.name != "devices"]
        assert_snapshot_matches(repo, snapshot, tenant, others)
        assert list(catalog.versions_at(snapshot.id, "devices")) == []

        small_change(tenant, tenant.state(), 0)
        second, snapshot = await backup(live, repo, catalog)
        assert not second.partial
        found = modes(second)
        assert found["devices"] == "full"
        assert {found[name] for name in DELTA_TYPES - {"devices"}} == {"delta"}
        assert snapshot.types["devices"].status is TypeStatus.OK
        assert_snapshot_matches(repo, snapshot, tenant)
        devices_now = sorted(v.object_id for v in catalog.versions_at(snapshot.id, "devices"))
        assert devices_now == sorted(tenant.state(["devices"])["devices"])

        # Skipped again, with devices changed meanwhile: the next complete backup goes on
        # from the last snapshot that holds devices.
        ok_snapshot = snapshot
        state = tenant.state(["devices", "users"])
        cloud = sorted(i for i, d in state["devices"].items() if not d["onPremisesSyncEnabled"])
        tenant.patch(f"devices/{cloud[0]}", {"displayName": "RENAMED-WHILE-SKIPPED"})
        tenant.graph.call("DELETE", f"devices/{cloud[1]}", expect=204)
        third, snapshot = await backup(live, repo, catalog, client_id=app["client_id"],
                                       credential=app["client_secret"])
        assert snapshot.types["devices"].status is TypeStatus.SKIPPED and third.partial
        fourth, snapshot = await backup(live, repo, catalog)
        assert modes(fourth)["devices"] == "delta" and not fourth.partial
        devices = next(o for o in fourth.types if o.name == "devices")
        assert (devices.new_versions, devices.removed) == (1, 1)
        assert_snapshot_matches(repo, snapshot, tenant)
        changes = {(c.type, c.object_id): c.change
                   for c in catalog.changed_between(ok_snapshot.id, snapshot.id)
                   if c.type == "devices"}
        assert changes == {("devices", cloud[0]): "changed", ("devices", cloud[1]): "removed"}

        rebuilt = Catalog.open(f"sqlite:///{tmp_path / 'rebuilt.db'}")
        try:
            reindex(rebuilt, RepositorySource(repo))
            for snapshot_id in catalog.snapshot_ids(TENANT):
                assert list(rebuilt.versions_at(snapshot_id)) == \
                    list(catalog.versions_at(snapshot_id))
            assert rebuilt.search(deleted_only=True) == catalog.search(deleted_only=True)
            assert rebuilt.timeline(cloud[0]) == catalog.timeline(cloud[0])
        finally:
            rebuilt.close()
    finally:
        catalog.close()


# --- interruptions and concurrency ---------------------------------------------------------


def test_a_killed_backup_leaves_no_snapshot_and_the_next_one_is_right(
        live: LiveEmulator, tenant: Tenant, repo: Repository, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}")
    try:
        _, committed = asyncio.run(backup(live, repo, catalog))
        state = tenant.state()
        small_change(tenant, state, 0)
        pages: list[str] = []

        async def interrupted_while_reading() -> None:
            task = asyncio.current_task()
            assert task is not None

            def read(name: str, count: int) -> None:
                pages.append(name)
                if len(pages) == 5:
                    task.cancel()  # what asyncio.run does with a Ctrl-C

            await backup(live, repo, catalog, progress=BackupProgress(read=read))

        with pytest.raises(asyncio.CancelledError):
            asyncio.run(interrupted_while_reading())
        assert len(pages) >= 5
        assert [s.id for s in repo.snapshots(TENANT)] == [committed.id]

        small_change(tenant, state, 1)
        files_before = {f.name for f in repo.backend.list("")}

        def killed(self: SnapshotWriter, types: Any) -> Snapshot:
            raise KeyboardInterrupt  # after packs and index files, before the snapshot file

        async def interrupted_at_commit() -> str:
            try:
                await backup(live, repo, catalog)
            except KeyboardInterrupt:  # caught here, so asyncio's loop does not see it
                return "interrupted"
            return "committed"

        monkeypatch.setattr(SnapshotWriter, "_write_snapshot", killed)
        assert asyncio.run(interrupted_at_commit()) == "interrupted"
        monkeypatch.undo()
        assert {f.name for f in repo.backend.list("")} > files_before  # data was written
        assert [s.id for s in repo.snapshots(TENANT)] == [committed.id]
        assert catalog.snapshot_ids(TENANT) == [committed.id]

        summary, snapshot = asyncio.run(backup(live, reopen(repo.backend), catalog))
        assert snapshot.parent == committed.id
        assert {modes(summary)[name] for name in DELTA_TYPES} == {"delta"}
        assert not summary.partial
        assert_snapshot_matches(repo, snapshot, tenant)
        # Both changes made before the interrupted runs are in: the delta links came from
        # the last committed snapshot.
        assert {o.name: o.new_versions for o in summary.types if o.new_versions} == \
            {"users": 2, "groups": 2}
        assert catalog.snapshot_ids(TENANT) == [committed.id, snapshot.id]
    finally:
        catalog.close()


async def test_a_second_backup_of_a_locked_repository_fails_with_backup_locked(
        live: LiveEmulator, tenant: Tenant, repo: Repository) -> None:
    other = reopen(repo.backend)  # another process's view of the same repository
    outcome: dict[str, BaseException | None] = {}

    def second() -> None:
        try:
            asyncio.run(backup(live, other))
            outcome["error"] = None
        except BaseException as exc:
            outcome["error"] = exc

    def read(name: str, count: int) -> None:
        if "error" not in outcome:  # the first backup is reading: it holds the lock
            thread = threading.Thread(target=second)
            thread.start()
            thread.join(60)

    summary, snapshot = await backup(live, repo, progress=BackupProgress(read=read))
    error = outcome["error"]
    assert isinstance(error, BackupLocked), error
    assert "locked" in str(error)
    assert not summary.partial
    assert [s.id for s in repo.snapshots(TENANT)] == [snapshot.id]
    assert_snapshot_matches(repo, snapshot, tenant)

    small_change(tenant, tenant.state(), 0)
    later, after = await backup(live, other)  # the lock went with the first backup
    assert after.parent == snapshot.id
    assert {modes(later)[name] for name in DELTA_TYPES} == {"delta"}
    assert_snapshot_matches(other, after, tenant)


async def test_a_catalog_that_cannot_record_leaves_the_snapshot_and_reindex_recovers(
        live: LiveEmulator, tenant: Tenant, repo: Repository, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}")
    try:
        def refuse(*_args: object, **_kwargs: object) -> bool:
            raise CatalogError("the catalog database is locked")

        with monkeypatch.context() as patch:
            patch.setattr(catalog, "record", refuse)
            summary, snapshot = await backup(live, repo, catalog)
        assert summary.catalog.startswith("failed: the catalog database is locked")
        assert [s.id for s in repo.snapshots(TENANT)] == [snapshot.id]
        assert_snapshot_matches(repo, snapshot, tenant)
        small_change(tenant, tenant.state(), 0)
        later, _ = await backup(live, repo, catalog)
        # The catalog missed the first snapshot, so the second is recorded after a rebuild.
        assert later.catalog == "reindexed"
        assert catalog.snapshot_ids(TENANT) == [s.id for s in repo.snapshots(TENANT)]
    finally:
        catalog.close()
