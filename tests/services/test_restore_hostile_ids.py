"""No id from a plan, a journal or a snapshot reaches a Graph path unchecked.

Every id field that a restore puts into a request path or an ``@odata.bind`` URL is given
values that would, unchecked, name another resource (``../servicePrincipals/<id>``,
``x%2F..``), add query options (``x?$select=a``, ``x&y=1``) or cut the path short
(``x#y``), and a space and an empty string. The run is refused whole with
``MalformedObjectId`` before its first request: the emulator's request log does not grow.
A plan the planner made from the same snapshot still runs.

End to end against the emulator over HTTPS, with a real repository.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from entra_backup.domain.object_ids import MalformedObjectId
from entra_backup.domain.object_types import by_name
from entra_backup.domain.restore.plan import Action, PlanItem, RestorePlan
from entra_backup.services.restore.execute import item_keys
from entra_backup.services.restore.journal import FINISHED, Journal, JournalEntry, JournalSeal
from entra_backup.services.restore.live_side import Document, SnapshotDocuments
from entra_backup.services.restore.plan import RestoreOptions, plan_selection, read_live
from entra_backup.services.restore.report import FAILED
from entra_backup.services.restore.requests import (
    action_path,
    directory_object_url,
    object_path,
    relationship_path,
)
from entra_backup.services.restore.selection import select
from entra_backup.store.keys.passphrase import allow_weak_kdf_for_tests
from tests.services._backup_support import graph_client
from tests.services._restore_support import RestoreWorld, backed_up_world, rolled_back

allow_weak_kdf_for_tests()

CHECKPOINT = "hostile-ids-backed-up"
VICTIM = "5f6e2b3c-8a9d-4e1f-b2c3-d4e5f6a7b8c9"
HOSTILE = [f"../servicePrincipals/{VICTIM}", "x?$select=a", "x#y", "x%2F..", "x&y=1", "a b", ""]


@pytest.fixture(scope="module")
def backed_up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestoreWorld]:
    with backed_up_world(tmp_path_factory.mktemp("hostile"), users=20, seed=23,
                         checkpoint=CHECKPOINT, restored=("users", "groups")) as world:
        yield world


@dataclass(frozen=True)
class Ids:
    """Real ids of the backed-up tenant that hostile plans sit next to."""

    user: str
    other: str
    group: str
    service_principal: str


@pytest.fixture(scope="module")
def ids(backed_up: RestoreWorld) -> Ids:
    users = backed_up.member_users()
    return Ids(users[0], users[1], backed_up.assigned_security_groups()[0],
               sorted(backed_up.stored["servicePrincipals"])[0])


def _plan(world: RestoreWorld, *items: PlanItem, matched: dict[str, str] | None = None,
          remove_new: bool = False) -> RestorePlan:
    return RestorePlan(world.snapshot.tenant, world.snapshot.id, "2026-12-01T00:00:00+00:00",
                       RestoreOptions(types=("users", "groups"),
                                      remove_new=remove_new).to_json(),
                       items=list(items), matched=matched or {})


def _edges(type_name: str, source: str, relationship: str, *targets: str,
           action: Action = Action.ADD_EDGES) -> PlanItem:
    return PlanItem(action, type_name, source, "hostile", relationship=relationship,
                    edges=targets)


PlanOf = Callable[[RestoreWorld, Ids, str], RestorePlan]
PLANS: dict[str, PlanOf] = {
    "undelete object_id": lambda w, i, bad: _plan(
        w, PlanItem(Action.UNDELETE, "users", bad, "hostile")),
    "update object_id": lambda w, i, bad: _plan(
        w, PlanItem(Action.UPDATE, "users", bad, "hostile", properties=("jobTitle",))),
    "update live_id": lambda w, i, bad: _plan(
        w, PlanItem(Action.UPDATE, "users", i.user, "hostile", live_id=bad,
                    properties=("jobTitle",))),
    "remove object_id": lambda w, i, bad: _plan(
        w, PlanItem(Action.REMOVE, "groups", bad, "hostile"), remove_new=True),
    "recreate object_id": lambda w, i, bad: _plan(
        w, PlanItem(Action.RECREATE, "groups", bad, "hostile")),
    "matched live id": lambda w, i, bad: _plan(
        w, PlanItem(Action.UPDATE, "users", i.user, "hostile", properties=("jobTitle",)),
        matched={i.user: bad}),
    "skip live_id": lambda w, i, bad: _plan(
        w, PlanItem(Action.SKIP, "users", i.user, "hostile", live_id=bad)),
    "edge source": lambda w, i, bad: _plan(w, _edges("groups", bad, "members", i.user)),
    "member ids": lambda w, i, bad: _plan(w, _edges("groups", i.group, "members", bad)),
    "owner ids": lambda w, i, bad: _plan(w, _edges("groups", i.group, "owners", bad)),
    "manager id": lambda w, i, bad: _plan(w, _edges("users", i.user, "manager", bad)),
    "removed member ids": lambda w, i, bad: _plan(
        w, _edges("groups", i.group, "members", bad, action=Action.REMOVE_EDGES),
        remove_new=True),
    "app role assignment ids": lambda w, i, bad: _plan(
        w, _edges("servicePrincipals", i.service_principal, "appRoleAssignedTo", bad,
                  action=Action.REMOVE_EDGES), remove_new=True),
    "a target's matched id": lambda w, i, bad: _plan(
        w, _edges("groups", i.group, "members", i.other), matched={i.other: bad}),
    "role assignment id": lambda w, i, bad: _plan(
        w, PlanItem(Action.REMOVE, "roleAssignments", bad, "hostile"), remove_new=True),
    "grant id": lambda w, i, bad: _plan(
        w, PlanItem(Action.UPDATE, "oauth2PermissionGrants", bad, "hostile",
                    properties=("scope",))),
}


def _refused(world: RestoreWorld, run: Callable[[], object]) -> MalformedObjectId:
    """``run()`` raised MalformedObjectId and the emulator served no request meanwhile."""
    before = len(world.log())
    with pytest.raises(MalformedObjectId) as refused:
        run()
    assert len(world.log()) == before, "nothing reached Graph"
    message = refused.value.message
    assert "\n" not in message and message.startswith("malformed ")
    assert refused.value.exit_code == 37
    return refused.value


@pytest.mark.parametrize("hostile", HOSTILE)
@pytest.mark.parametrize("field", sorted(PLANS))
def test_a_plan_with_a_hostile_id_sends_nothing(
        backed_up: RestoreWorld, ids: Ids, tmp_path: Path, field: str, hostile: str) -> None:
    plan = PLANS[field](backed_up, ids, hostile)
    refused = _refused(backed_up, lambda: backed_up.execute(plan, tmp_path / "journal.jsonl"))
    assert refused.object_id == hostile
    assert "the restore plan, item 1" in refused.message
    assert not (tmp_path / "journal.jsonl").exists(), "no journal either"


@pytest.mark.parametrize("hostile", [h for h in HOSTILE if h])  # "": no new id at all
def test_a_journal_giving_a_recreated_object_a_hostile_id_sends_nothing(
        backed_up: RestoreWorld, ids: Ids, tmp_path: Path, hostile: str) -> None:
    """An authenticated journal line (sealed with the repository's own key) whose new id
    the next run would PATCH and bind."""
    plan = _plan(backed_up, PlanItem(Action.RECREATE, "groups", ids.group, "hostile"),
                 _edges("groups", ids.group, "members", ids.user))
    journal = tmp_path / "run" / "journal.jsonl"
    [key] = [k for k, item in zip(item_keys(plan.ordered()), plan.ordered(), strict=True)
             if item.action is Action.RECREATE]
    seal = JournalSeal.for_journal(backed_up.repo.keys, plan.tenant, plan.snapshot, journal)
    log = Journal.open(journal, {"tenant": plan.tenant, "snapshot": plan.snapshot,
                                 "plan_created_at": plan.created_at}, seal)
    log.record(JournalEntry(key, FINISHED, FAILED, new_id=hostile,
                            reason="created, a later step failed"))
    log.close()

    refused = _refused(backed_up, lambda: backed_up.execute(plan, journal))

    assert refused.object_id == hostile
    assert "the restore journal" in refused.message and key in refused.message


@dataclass
class _Poisoned:
    """The snapshot's documents, one of them changed as a damaged or forged snapshot
    would hold it."""

    real: SnapshotDocuments
    type_name: str
    object_id: str
    change: Callable[[dict[str, Any]], dict[str, Any]]

    def holds(self, type_name: str) -> bool:
        return self.real.holds(type_name)

    def objects(self, type_name: str) -> Iterator[tuple[str, Document]]:
        for object_id, document in self.real.objects(type_name):
            if (type_name, object_id) == (self.type_name, self.object_id):
                changed = self.change(dict(document))
                yield str(changed["id"]), changed
            else:
                yield object_id, document

    def get(self, type_name: str, object_id: str) -> Document | None:
        return dict(self.objects(type_name)).get(object_id)


SNAPSHOT_FIELDS: dict[str, tuple[str, Callable[[Ids], str],
                                 Callable[[str], Callable[[dict[str, Any]], dict[str, Any]]]]] = {
    # A new UPN too, so that no live user stands for it and it is planned on its own.
    "a user's own id": ("users", lambda i: i.user, lambda bad: lambda d: {
        **d, "id": bad, "userPrincipalName": f"poisoned.{d['userPrincipalName']}"}),
    "a user's manager id": ("users", lambda i: i.user,
                            lambda bad: lambda d: {**d, "manager": {"id": bad}}),
    "a group's member id": ("groups", lambda i: i.group,
                            lambda bad: lambda d: {**d, "members": [{"id": bad}]}),
    "a group's owner id": ("groups", lambda i: i.group,
                           lambda bad: lambda d: {**d, "owners": [{"id": bad}]}),
}


@pytest.mark.parametrize("hostile", HOSTILE)
@pytest.mark.parametrize("field", sorted(SNAPSHOT_FIELDS))
def test_a_snapshot_document_with_a_hostile_id_sends_nothing(
        backed_up: RestoreWorld, ids: Ids, tmp_path: Path, field: str, hostile: str) -> None:
    """The planner copies the stored ids into the plan; the plan is then refused whole."""
    world = rolled_back(backed_up)
    type_name, pick, change = SNAPSHOT_FIELDS[field]
    options = RestoreOptions(types=("users", "groups"))

    async def plan() -> RestorePlan:
        selection = select(world.repo, world.snapshot, options)
        async with graph_client(world.live) as client:
            live = await read_live(client, world.snapshot, selection.read())
        stored = _Poisoned(SnapshotDocuments(world.repo, world.snapshot), type_name,
                           pick(ids), change(hostile))
        return plan_selection(world.repo, world.snapshot, live, selection, options,
                              stored=stored)

    poisoned = asyncio.run(plan())
    assert any(hostile == item.object_id or hostile in item.edges for item in poisoned.items)

    refused = _refused(world, lambda: world.execute(poisoned, tmp_path / "journal.jsonl"))

    assert refused.object_id == hostile


def test_real_ids_of_every_kind_the_planner_writes_still_pass(
        backed_up: RestoreWorld, tmp_path: Path) -> None:
    """A user, a group (members and owners bound) and a user's manager gone for good,
    re-created with new ids, and their edges written: every path checked, none refused."""
    world = rolled_back(backed_up)
    user = next(u for u in world.member_users() if world.stored["users"][u].get("manager"))
    group = world.assigned_security_groups()[0]
    world.hard_delete_user(user)
    world.hard_delete_group(group)
    plan = world.plan()
    assert {i.action for i in plan.items} >= {Action.RECREATE, Action.ADD_EDGES}

    report = world.execute(plan, tmp_path / "journal.jsonl")

    assert report.ok, [(r.key, r.reason) for r in report.items if r.outcome == FAILED]
    assert {user, group} <= set(report.id_map)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_every_path_a_step_builds_refuses_a_hostile_id(hostile: str) -> None:
    """The second line, for ids a run meets after its start (Graph's answers)."""
    users = by_name("users")
    manager = users.relationship("manager")
    builders: list[Callable[[str], str]] = [
        lambda i: object_path(users, i),
        lambda i: action_path("/users/{id}/assignLicense", users, i),
        lambda i: relationship_path(users, manager, i),
        lambda i: directory_object_url("https://graph.example/v1.0", i),
    ]
    for build in builders:
        with pytest.raises(MalformedObjectId):
            build(hostile)
        assert build(VICTIM).count(VICTIM) == 1
