"""Scenario: a guest deleted for good is invited again, not created as a member.

Graph creates external users only through the invitation API (graph-facts 5.3). The
restore sends ``POST /invitations`` for a stored guest (no invitation mail unless asked),
PATCHes the guest's other properties onto the invited user, and adds its memberships as
for any re-created user (emulator over HTTPS).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from entra_backup.domain.restore.plan import Action
from entra_backup.store.keys.passphrase import allow_weak_kdf_for_tests
from tests.services._backup_support import LiveGraph
from tests.services._restore_support import (
    RestoreWorld,
    assert_nothing_left,
    backed_up_world,
    key,
    rolled_back,
    writing,
)

allow_weak_kdf_for_tests()

CHECKPOINT = "guests-backed-up"
GROUPS = 2
OBJECTS = "https://graph.microsoft.com/v1.0/directoryObjects"
"""Assigned security groups the chosen guest is made a member of before the backup."""


def guests(graph: LiveGraph) -> list[dict[str, Any]]:
    return sorted(graph.iterate("users", {"$filter": "userType eq 'Guest'",
                                          "$select": "id,mail,userType"}),
                  key=lambda u: str(u["id"]))


def shape(graph: LiveGraph) -> None:
    """Make the first guest a member of two assigned security groups."""
    guest = guests(graph)[0]["id"]
    groups = [g["id"] for g in graph.iterate("groups", {
        "$select": "id,groupTypes,mailEnabled,securityEnabled,isAssignableToRole,"
                   "onPremisesSyncEnabled"})
        if g["securityEnabled"] and not g["mailEnabled"] and not g["groupTypes"]
        and not g["isAssignableToRole"] and not g["onPremisesSyncEnabled"]]
    for group in sorted(groups)[:GROUPS]:
        graph.call("POST", f"groups/{group}/members/$ref",
                   {"@odata.id": f"{OBJECTS}/{guest}"}, expect=204)


@pytest.fixture(scope="module")
def backed_up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestoreWorld]:
    with backed_up_world(tmp_path_factory.mktemp("restore-guests"), users=40, seed=53,
                         checkpoint=CHECKPOINT, compared=None, shape=shape) as world:
        yield world


@pytest.fixture
def world(backed_up: RestoreWorld) -> RestoreWorld:
    return rolled_back(backed_up)


def chosen_guest(world: RestoreWorld) -> str:
    found = [i for i, u in sorted(world.stored["users"].items())
             if u["userType"] == "Guest" and u["mail"]]
    assert found, "the generated tenant has guests"
    return found[0]


def groups_of(world: RestoreWorld, user: str) -> list[str]:
    return [g for g in world.assigned_security_groups() if user in world.members(g)]


@pytest.mark.slow
def test_a_guest_deleted_for_good_is_invited_again_with_its_memberships(
        world: RestoreWorld, tmp_path: Path) -> None:
    guest = chosen_guest(world)
    stored = world.stored["users"][guest]
    groups = groups_of(world, guest)
    assert len(groups) == GROUPS
    world.hard_delete_user(guest)

    plan = world.plan()
    planned = {key(i): i for i in writing(plan)}
    recreate = planned[("recreate", "users", guest, None)]
    assert "invited again" in recreate.reason
    for group in groups:
        assert planned[("add-relationships", "groups", group, "members")].edges == (guest,)
    start = len(world.log())

    report = world.execute(plan, tmp_path / "journal.jsonl")

    assert report.ok, report.failed
    served = world.log()[start:]
    writes = [(r["method"], r["path"]) for r in served
              if r["method"] != "GET" and r["path"] != "/$batch"]
    new_id = report.id_map[guest]
    assert ("POST", "/invitations") in writes
    assert ("POST", "/users") not in writes, "a guest is not created as a member"
    assert len(writes) == plan.writes()["directory"], "the plan counts the invitation"
    live = world.graph.get(f"users/{new_id}", {"$select": "id,mail,userType,displayName,"
                                                          "externalUserState,givenName"})
    assert (live["mail"], live["userType"], live["externalUserState"]) == \
        (stored["mail"], "Guest", "PendingAcceptance")
    assert (live["displayName"], live["givenName"]) == \
        (stored["displayName"], stored["givenName"]), "its properties PATCHed back"
    for group in groups:
        members = {m["id"] for m in world.graph.iterate(f"groups/{group}/members",
                                                        {"$select": "id"})}
        assert new_id in members and guest not in members
    item = next(i for i in report.items if i.object_id == guest)
    assert item.new_id == new_id
    assert any("redeem" in note for note in item.notes), item.notes
    assert_nothing_left(world, [tmp_path / "journal.jsonl"])


@pytest.mark.slow
def test_the_invitation_mail_goes_only_on_request_and_no_password_is_needed(
        world: RestoreWorld, tmp_path: Path) -> None:
    guest = chosen_guest(world)
    world.hard_delete_user(guest)
    plan = world.plan(types=("users",), relationships=False)
    assert [key(i) for i in writing(plan)] == [("recreate", "users", guest, None)]
    assert [i.action for i in writing(plan)] == [Action.RECREATE]

    # No default password: a guest signs in with its own account.
    report = world.execute(plan, tmp_path / "journal.jsonl", default_password=None,
                           send_invitations=True)

    assert report.ok, report.failed
    item = next(i for i in report.items if i.object_id == guest)
    assert any("invitation mail was sent" in note for note in item.notes), item.notes
