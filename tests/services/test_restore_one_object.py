"""Restoring one object brings back what other objects hold for it (emulator over HTTPS).

A user's group memberships are stored on the groups, its app role assignments on the
resource service principals, its role assignments and delegated grants as objects of
their own. ``restore --object USER`` plans those too: the edges other objects hold to the
chosen object (``plan_reverse_edges``), and its role assignments and grants
(``DEPENDENTS``), and nothing else of those objects.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from entra_backup.domain.restore.plan import Action
from entra_backup.store.keys.passphrase import allow_weak_kdf_for_tests
from tests.services._restore_support import (
    RestoreWorld,
    backed_up_world,
    key,
    rolled_back,
    writing,
)
from tests.services._restore_support import (
    assert_nothing_left as nothing_left,
)

allow_weak_kdf_for_tests()

CHECKPOINT = "one-object-backed-up"


@pytest.fixture(scope="module")
def backed_up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestoreWorld]:
    with backed_up_world(tmp_path_factory.mktemp("restore-one"), users=60, seed=43,
                         checkpoint=CHECKPOINT, compared=None) as world:
        yield world


@pytest.fixture
def world(backed_up: RestoreWorld) -> RestoreWorld:
    return rolled_back(backed_up)


def groups_of(world: RestoreWorld, user: str) -> list[str]:
    """Assigned security groups the user was a member of in the snapshot."""
    return [g for g in world.assigned_security_groups() if user in world.members(g)]


def live_members(world: RestoreWorld, group: str) -> set[str]:
    return {m["id"] for m in world.graph.iterate(f"groups/{group}/members", {"$select": "id"})}


def pick(world: RestoreWorld) -> str:
    """A cloud member user in at least two assigned security groups, with a role
    assignment if one has it."""
    candidates = [u for u in world.member_users() if len(groups_of(world, u)) >= 2]
    assert candidates, "the generated tenant has users in several groups"
    assigned = {a["principalId"] for a in world.stored.get("roleAssignments", {}).values()}
    return next((u for u in candidates if u in assigned), candidates[0])


def assert_nothing_left(world: RestoreWorld, tmp_path: Path, chosen: str,
                        **options: Any) -> None:
    """A second restore of the chosen object, of every type, or of each type alone plans
    no write."""
    journals = [tmp_path / "journal.jsonl"]
    nothing_left(world, journals, [()], object_ids=(chosen,), **options)
    nothing_left(world, journals, **options)


@pytest.mark.slow
def test_one_user_deleted_for_good_comes_back_with_its_memberships_and_roles(
        world: RestoreWorld, tmp_path: Path) -> None:
    user = pick(world)
    groups = groups_of(world, user)
    roles = sorted(i for i, a in world.stored.get("roleAssignments", {}).items()
                   if a["principalId"] == user)
    others = {g: live_members(world, g) for g in groups}
    world.hard_delete_user(user)

    plan = world.plan(object_ids=(user,))

    planned = {key(i): i for i in writing(plan)}
    assert ("recreate", "users", user, None) in planned
    for group in groups:
        item = planned[("add-relationships", "groups", group, "members")]
        assert item.edges == (user,), "only the chosen user's membership"
    assert {k[2] for k in planned if k[:2] == ("recreate", "roleAssignments")} == set(roles)
    assert not [i for i in plan.items if i.action is Action.UPDATE and i.type == "groups"]

    report = world.execute(plan, tmp_path / "journal.jsonl")

    assert report.ok, report.failed
    new_id = report.id_map[user]
    for group in groups:
        assert live_members(world, group) == (others[group] - {user}) | {new_id}
    live_roles = {a["roleDefinitionId"] for a in world.graph.iterate(
        "roleManagement/directory/roleAssignments", {"$filter": f"principalId eq '{new_id}'"})}
    assert live_roles == {world.stored["roleAssignments"][r]["roleDefinitionId"]
                          for r in roles}
    assert_nothing_left(world, tmp_path, user)


@pytest.mark.slow
def test_one_live_user_gets_its_memberships_back_and_an_added_one_removed_on_request(
        world: RestoreWorld, tmp_path: Path) -> None:
    user = pick(world)
    kept, lost = groups_of(world, user)[:2]
    added = next(g for g in world.assigned_security_groups() if user not in world.members(g))
    world.tenant.remove_link(f"groups/{lost}/members", user)
    world.tenant.add_link(f"groups/{added}/members", user)
    before = {g: live_members(world, g) for g in (kept, lost, added)}

    keeping = world.plan(object_ids=(user,))
    assert {(key(i), i.edges) for i in writing(keeping)} == {
        (("add-relationships", "groups", lost, "members"), (user,))}

    plan = world.plan(object_ids=(user,), remove_new=True)
    assert {(key(i), i.edges) for i in writing(plan)} == {
        (("add-relationships", "groups", lost, "members"), (user,)),
        (("remove-relationships", "groups", added, "members"), (user,))}
    report = world.execute(plan, tmp_path / "journal.jsonl")

    assert report.ok, report.failed
    assert live_members(world, kept) == before[kept]
    assert live_members(world, lost) == before[lost] | {user}
    assert live_members(world, added) == before[added] - {user}
    assert_nothing_left(world, tmp_path, user, remove_new=True)


def test_without_relationships_only_the_object_itself_is_planned(
        world: RestoreWorld) -> None:
    user = pick(world)
    world.hard_delete_user(user)
    plan = world.plan(object_ids=(user,), relationships=False)
    assert [key(i) for i in writing(plan)] == [("recreate", "users", user, None)]


@pytest.mark.slow
def test_one_application_comes_back_with_its_service_principal(
        world: RestoreWorld, tmp_path: Path) -> None:
    by_app_id = {sp["appId"]: i for i, sp in world.stored["servicePrincipals"].items()}
    application = next(i for i, a in sorted(world.stored["applications"].items())
                       if a["appId"] in by_app_id)
    principal = by_app_id[world.stored["applications"][application]["appId"]]
    world.hard_delete_application(application, principal)

    plan = world.plan(object_ids=(application,))

    planned = {key(i) for i in writing(plan)}
    assert {("recreate", "applications", application, None),
            ("recreate", "servicePrincipals", principal, None)} <= planned
    app_id = world.stored["applications"][application]["appId"]
    naming = {i for i, p in world.stored["conditionalAccessPolicies"].items()
              if app_id in p["conditions"]["applications"]["includeApplications"]}
    assert naming, "the generated tenant has a policy naming the application"
    assert {k[2] for k in planned if k[:2] == ("update", "conditionalAccessPolicies")} \
        == naming, "policies naming its appId are rewritten to the new one"
    report = world.execute(plan, tmp_path / "journal.jsonl")
    assert report.ok, report.failed
    new_app_id = report.app_id_map[world.stored["applications"][application]["appId"]]
    live = world.graph.get(f"servicePrincipals/{report.id_map[principal]}")
    assert live["appId"] == new_app_id
    assert_nothing_left(world, tmp_path, application)
