"""Scenario 4 of issue 5, privileges: owners changed and role assignments added and removed,
as an attacker keeping a foothold would (emulator over HTTPS).

Through Graph, after the backup: an owner of a security group is removed and a new
"attacker" user made owner instead, also of an application; one of the tenant's role
assignments is deleted, and the attacker is given Global Administrator. A restore of users,
groups, applications and role assignments then puts the removed owner and assignment back
(the assignment with a new id) and, only with ``remove_new``, removes the attacker's
ownerships, its role assignment and the attacker itself. The live tenant is compared with
the snapshot: owners and members by id, role assignments by what they grant (principal,
role, scope), since a re-created assignment has a new id.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from entra_backup.domain.restore.plan import Action
from entra_backup.store.keys.passphrase import allow_weak_kdf_for_tests
from tests.services._restore_support import (
    RestoreWorld,
    assert_nothing_left,
    backed_up_world,
    edge_ids,
    key,
    rolled_back,
    writing,
)

allow_weak_kdf_for_tests()

CHECKPOINT = "privilege-sabotage"
RESTORED = ("users", "groups", "applications", "roleAssignments")
GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10"
Grant = tuple[str, str, str]
"""(principalId, roleDefinitionId, directoryScopeId) of a role assignment."""


@pytest.fixture(scope="module")
def backed_up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestoreWorld]:
    with backed_up_world(tmp_path_factory.mktemp("privilege-sabotage"), users=60, seed=47,
                         checkpoint=CHECKPOINT, restored=RESTORED,
                         compared=RESTORED) as world:
        yield world


@pytest.fixture
def world(backed_up: RestoreWorld) -> RestoreWorld:
    return rolled_back(backed_up)


@dataclass
class Attack:
    group: str
    ousted: str
    application: str
    revoked: str
    """The id of the role assignment the attacker deleted."""
    attacker: str
    granted: str
    """The id of the attacker's Global Administrator assignment."""


def grants(assignments: dict[str, dict[str, str]]) -> set[Grant]:
    return {(a["principalId"], a["roleDefinitionId"], a["directoryScopeId"])
            for a in assignments.values()}


def live_grants(world: RestoreWorld) -> set[Grant]:
    return {(a["principalId"], a["roleDefinitionId"], a["directoryScopeId"])
            for a in world.graph.iterate("roleManagement/directory/roleAssignments")}


def owners(world: RestoreWorld, path: str) -> set[str]:
    return {o["id"] for o in world.graph.iterate(f"{path}/owners", {"$select": "id"})}


def attack(world: RestoreWorld) -> Attack:
    stored = world.stored
    group = next(g for g in world.assigned_security_groups() if stored["groups"][g]["owners"])
    ousted = edge_ids(stored["groups"][group]["owners"])[0]
    application = sorted(stored["applications"])[0]
    users = set(stored["users"])
    revoked = next(i for i, a in sorted(stored["roleAssignments"].items())
                   if a["principalId"] in users and a["directoryScopeId"] == "/")
    attacker = world.tenant.create_user("persistent.attacker")
    world.tenant.remove_link(f"groups/{group}/owners", ousted)
    world.tenant.add_link(f"groups/{group}/owners", attacker)
    world.tenant.add_link(f"applications/{application}/owners", attacker)
    world.graph.call("DELETE", f"roleManagement/directory/roleAssignments/{revoked}",
                     expect=204)
    granted = world.graph.call("POST", "roleManagement/directory/roleAssignments", {
        "principalId": attacker, "roleDefinitionId": GLOBAL_ADMINISTRATOR,
        "directoryScopeId": "/"}, expect=201)["id"]
    return Attack(group, ousted, application, revoked, attacker, str(granted))


@pytest.mark.slow
def test_owners_and_role_assignments_are_restored_and_the_attacker_stays_by_default(
        world: RestoreWorld, tmp_path: Path) -> None:
    done = attack(world)

    plan = world.plan()

    assert {(key(i), i.edges) for i in writing(plan)} == {
        (("add-relationships", "groups", done.group, "owners"), (done.ousted,)),
        (("recreate", "roleAssignments", done.revoked, None), ())}
    report = world.execute(plan, tmp_path / "journal.jsonl")
    assert report.ok, report.failed
    assert owners(world, f"groups/{done.group}") == \
        set(edge_ids(world.stored["groups"][done.group]["owners"])) | {done.attacker}
    attacker_grant = (done.attacker, GLOBAL_ADMINISTRATOR, "/")
    assert live_grants(world) == grants(world.stored["roleAssignments"]) | {attacker_grant}
    assert_nothing_left(world, [tmp_path / "journal.jsonl"])


@pytest.mark.slow
def test_with_remove_new_the_attackers_foothold_is_removed(
        world: RestoreWorld, tmp_path: Path) -> None:
    done = attack(world)

    plan = world.plan(remove_new=True)

    planned = {(key(i), i.edges) for i in writing(plan)}
    assert planned == {
        (("add-relationships", "groups", done.group, "owners"), (done.ousted,)),
        (("recreate", "roleAssignments", done.revoked, None), ()),
        (("remove-relationships", "groups", done.group, "owners"), (done.attacker,)),
        (("remove-relationships", "applications", done.application, "owners"),
         (done.attacker,)),
        (("remove", "roleAssignments", done.granted, None), ()),
        (("remove", "users", done.attacker, None), ())}
    report = world.execute(plan, tmp_path / "journal.jsonl")

    assert report.ok, report.failed
    stored = world.stored
    assert owners(world, f"groups/{done.group}") == \
        set(edge_ids(stored["groups"][done.group]["owners"]))
    assert owners(world, f"applications/{done.application}") == \
        set(edge_ids(stored["applications"][done.application]["owners"]))
    assert live_grants(world) == grants(stored["roleAssignments"])
    assert world.graph.get_or_none(f"users/{done.attacker}") is None
    removal = next(i for i in plan.items if i.action is Action.REMOVE and i.type == "users")
    assert "recycle bin" in removal.reason, "the attacker is soft-deleted, restorable"
    assert_nothing_left(world, [tmp_path / "journal.jsonl"], remove_new=True)
