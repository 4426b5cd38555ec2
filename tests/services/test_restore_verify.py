"""A restore proves its result: several attacks at once, a restore, and the verification
that reads the tenant back, writes what the undeletes did not bring back, and names what
is left (emulator over HTTPS).

After the backup, through Graph: users are taken out of one of their groups and given
another manager, then soft-deleted; two live users get another manager; a Microsoft 365
group with owners is soft-deleted; an enabled Conditional Access policy is disabled; a new
account is made Global Administrator. The plan, made while the users are in the recycle
bin, cannot see that their memberships and managers changed before the deletion, and an
undelete does not bring back a manager or a group's owners (docs/emulator-writes.md).
Without verification a second plan still finds writes; with it the same run writes them
in a second pass, the figure reaches 100 % of what is restorable, every difference left is
named with its reason, and a second plan writes nothing. A property test does the same for
random sequences of such changes (hypothesis, a few examples: each is a restore).

What a verification reads is counted in the emulator's log: pages and ``$batch`` requests
of 20, never a plain read per object, and no read of a single user or group at all (their
edges come with the delta pages), so a regression to per-object reads fails.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from entra_backup.services.restore.ids import EarlierRestores
from entra_backup.services.restore.options import RestoreOptions
from entra_backup.services.restore.verification import Verification
from entra_backup.services.restore.verify import verify_only
from entra_backup.store.keys.passphrase import allow_weak_kdf_for_tests
from tests.services._backup_support import graph_client
from tests.services._restore_support import (
    RestoreWorld,
    assert_nothing_left,
    backed_up_world,
    edge_ids,
    left_after_restore,
    rolled_back,
)

allow_weak_kdf_for_tests()

CHECKPOINT = "verify"
GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10"


@pytest.fixture(scope="module")
def backed_up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestoreWorld]:
    with backed_up_world(tmp_path_factory.mktemp("verify"), users=80, seed=53,
                         checkpoint=CHECKPOINT) as world:
        yield world


@pytest.fixture
def world(backed_up: RestoreWorld) -> RestoreWorld:
    return rolled_back(backed_up)


@dataclass
class Attacks:
    deleted: list[str]
    left_groups: dict[str, str]
    """Deleted user -> the group it was taken out of before its deletion."""
    re_managed: list[str]
    group: str
    policy: str
    attacker: str


def groups_of(world: RestoreWorld, user: str) -> list[str]:
    return sorted(g for g in world.assigned_security_groups() if user in world.members(g))


def attack(world: RestoreWorld) -> Attacks:
    stored = world.stored
    managed = [u for u in world.member_users()
               if stored["users"][u].get("manager") and groups_of(world, u)]
    deleted, re_managed = managed[:3], managed[3:5]
    assert len(deleted) == 3 and len(re_managed) == 2, "the tenant has managed members"
    boss = next(u for u in world.member_users() if u not in managed[:5])
    left = {}
    for user in deleted:
        left[user] = groups_of(world, user)[0]
        world.tenant.remove_link(f"groups/{left[user]}/members", user)
        world.tenant.set_manager(user, boss)
    for user in re_managed:
        world.tenant.set_manager(user, boss)
    for user in deleted:
        world.tenant.soft_delete(f"users/{user}")
    group = next(g for g in world.unified_groups() if stored["groups"][g]["owners"])
    world.tenant.soft_delete(f"groups/{group}")
    policy = next(p["id"] for p in world.graph.iterate("identity/conditionalAccess/policies")
                  if p["state"] == "enabled")
    world.tenant.patch(f"identity/conditionalAccess/policies/{policy}", {"state": "disabled"})
    attacker = world.tenant.create_user("shadow.admin")
    world.graph.call("POST", "roleManagement/directory/roleAssignments", {
        "principalId": attacker, "roleDefinitionId": GLOBAL_ADMINISTRATOR,
        "directoryScopeId": "/"}, expect=201)
    return Attacks(deleted, left, re_managed, group, str(policy), attacker)


def manager_of(world: RestoreWorld, user: str) -> str | None:
    found = world.graph.get_or_none(f"users/{user}/manager")
    return None if found is None else str(found["id"])


@pytest.mark.slow
def test_without_verification_the_undeleted_users_miss_edges(
        world: RestoreWorld, tmp_path: Path) -> None:
    done = attack(world)
    report = world.execute(world.plan(remove_new=True), tmp_path / "journal.jsonl")

    assert report.ok, report.failed
    assert report.verification is None
    left = left_after_restore(world, [tmp_path / "journal.jsonl"], [()], remove_new=True)
    for user, group in done.left_groups.items():
        assert any(f"groups/{group}.members" in line for line in left), (user, left)
        assert any(f"users/{user}.manager" in line for line in left), (user, left)
    assert any(f"groups/{done.group}.owners" in line for line in left), left


@pytest.mark.slow
def test_the_verification_fills_in_what_the_undeletes_missed(
        world: RestoreWorld, tmp_path: Path) -> None:
    done = attack(world)
    journal = tmp_path / "journal.jsonl"

    report = world.execute(world.plan(remove_new=True), journal, verify=EarlierRestores())

    assert report.ok, report.failed
    verification = report.verification
    assert verification is not None
    assert verification.ok, [d.line() for d in verification.unexplained]
    assert verification.percent == 100.0, verification.headline()
    assert verification.second_pass
    # each deleted user: one membership and its manager; the group's owners
    owners = len(edge_ids(world.stored["groups"][done.group]["owners"]))
    assert verification.fixed_relationships >= 2 * len(done.deleted) + owners
    differing = {(d.type, d.object_id) for d in verification.differences
                 if d.what not in ("members", "owners", "manager")}
    assert verification.objects_equal == verification.objects - len(differing)
    assert all(d.reason and d.accepted for d in verification.differences)
    for user, group in done.left_groups.items():
        assert user in world.members(group)
        assert user in {m["id"] for m in world.graph.iterate(f"groups/{group}/members",
                                                             {"$select": "id"})}
        assert manager_of(world, user) == edge_ids(world.stored["users"][user]["manager"])[0]
    for user in done.re_managed:
        assert manager_of(world, user) == edge_ids(world.stored["users"][user]["manager"])[0]
    policy = world.graph.get(f"identity/conditionalAccess/policies/{done.policy}")
    assert policy["state"] == "enabled"
    assert world.graph.get_or_none(f"users/{done.attacker}") is None
    assert {o["id"] for o in world.graph.iterate(f"groups/{done.group}/owners",
                                                 {"$select": "id"})} == \
        set(edge_ids(world.stored["groups"][done.group]["owners"]))
    saved = Verification.from_json(report.to_json()["verification"])
    assert saved.headline() == verification.headline()
    assert_nothing_left(world, [journal], [()], remove_new=True)


# --- random sequences of changes -----------------------------------------------------------

Change = tuple[str, int, int]


def apply_change(world: RestoreWorld, change: Change, deleted: set[str]) -> None:
    """One change through Graph; ``deleted`` holds what is in the recycle bin by now."""
    kind, a, b = change
    users = [u for u in world.member_users() if u not in deleted]
    groups = world.assigned_security_groups()
    if len(users) < 2:
        return
    user, other, group = users[a % len(users)], users[b % len(users)], groups[b % len(groups)]
    members = world.graph.iterate(f"groups/{group}/members", {"$select": "id"})
    if kind == "leave" and user in {m["id"] for m in members}:
        world.tenant.remove_link(f"groups/{group}/members", user)
    elif kind == "join" and user not in {m["id"] for m in members}:
        world.tenant.add_link(f"groups/{group}/members", user)
    elif kind == "manager" and user != other:
        world.tenant.set_manager(user, other)
    elif kind == "rename":
        world.tenant.patch(f"users/{user}", {"jobTitle": f"Changed {b}"})
    elif kind == "delete":
        world.tenant.soft_delete(f"users/{user}")
        deleted.add(user)
    elif kind == "delete-team":
        teams = [g for g in world.unified_groups() if g not in deleted]
        if teams:
            team = teams[a % len(teams)]
            world.tenant.soft_delete(f"groups/{team}")
            deleted.add(team)


changes = st.lists(st.tuples(
    st.sampled_from(["leave", "join", "manager", "rename", "delete", "delete-team"]),
    st.integers(0, 999), st.integers(0, 999)), min_size=1, max_size=6)


@pytest.mark.slow
def test_any_sequence_of_changes_is_restored_or_each_difference_named(
        backed_up: RestoreWorld) -> None:
    @settings(max_examples=8, deadline=None, database=None)
    @given(sequence=changes)
    def restored(sequence: list[Change]) -> None:
        world = rolled_back(backed_up)
        deleted: set[str] = set()
        for change in sequence:
            apply_change(world, change, deleted)
        journal = Path(tempfile.mkdtemp(prefix="verify-")) / "journal.jsonl"

        report = world.execute(world.plan(remove_new=True), journal,
                               verify=EarlierRestores())

        assert report.ok, report.failed
        verification = report.verification
        assert verification is not None
        assert verification.ok, [d.line() for d in verification.unexplained]
        assert verification.percent == 100.0, verification.headline()
        assert all(d.reason for d in verification.differences)
        written = [journal] if journal.exists() else []  # no journal: nothing to do
        assert_nothing_left(world, written, [()], remove_new=True)

    restored()


# --- what the verification reads -----------------------------------------------------------

GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


def verification_log(world: RestoreWorld, types: tuple[str, ...]
                     ) -> tuple[Verification, list[dict[str, Any]]]:
    """A verification alone (nothing written) and every request the emulator served for it."""
    served = len(world.log())  # the emulator's clock may run ahead: count, not time

    async def go() -> Verification:
        async with graph_client(world.live) as client:
            return await verify_only(client, world.repo, world.snapshot,
                                     RestoreOptions(types=types), EarlierRestores())
    verification = asyncio.run(go())
    return verification, world.log()[served:]


def names_one_object(record: dict[str, Any]) -> bool:
    """A read addressed to one object (``/users/{id}``, ``/groups/{id}/members``...)."""
    return record["method"] == "GET" and GUID.search(record["path"]) is not None


def is_envelope(record: dict[str, Any]) -> bool:
    return bool(record["method"] == "POST" and record["path"] == "/$batch")


def test_the_verification_of_every_type_reads_in_pages_and_batches(
        world: RestoreWorld) -> None:
    verification, records = verification_log(world, ())

    assert verification.ok, [d.line() for d in verification.unexplained]
    assert verification.objects > 100 and records
    assert all(r["method"] == "GET" or is_envelope(r) for r in records), \
        "a verification writes nothing"
    plain = [r for r in records if not r["in_batch"] and not is_envelope(r)]
    assert [r["path"] for r in plain if names_one_object(r)] == []
    # What is read object by object (a service principal's app role assignments, an
    # application's key credentials) goes twenty to a $batch, as in a backup.
    envelopes = sum(1 for r in records if is_envelope(r))
    inner = [r for r in records if r["in_batch"]]
    assert inner and len(inner) <= 20 * envelopes
    # A read per object would need at least one request per object in scope.
    assert len(plain) + envelopes < verification.objects / 2, (len(plain), envelopes)


def test_users_and_groups_are_verified_without_a_read_per_user_or_group(
        world: RestoreWorld) -> None:
    verification, records = verification_log(world, ("users", "groups"))

    assert verification.ok, [d.line() for d in verification.unexplained]
    # Their properties and edges (members, owners, manager) come from the delta pages'
    # annotations, as in a backup: neither is read object by object, not even in $batch.
    ids = {*world.stored["users"], *world.stored["groups"]}
    per_object = [r["path"] for r in records
                  if any(found in ids for found in GUID.findall(r["path"]))]
    assert per_object == []
    pages = Counter(r["path"] for r in records
                    if r["path"] in ("/users/delta", "/groups/delta"))
    assert set(pages) == {"/users/delta", "/groups/delta"}
    assert sum(pages.values()) < len(world.stored["users"]) / 4, pages
