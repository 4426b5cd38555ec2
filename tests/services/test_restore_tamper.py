"""A restore writes only what a plan of this snapshot could say, and trusts only journal
lines this repository's restores wrote.

* The executor re-checks every item (``services/restore/validate.py``): an ``update``
  turned into a ``remove``, a ``live_id`` pointing at another object, a property that no
  update writes, an edge the snapshot lacks, an object the snapshot lacks: each fails
  with the reason and nothing of it is written.
* Journal lines carry a MAC bound to repository, tenant, snapshot and run: an edited
  journal that maps a stored object to another id is not used by the next plan, and a
  forged "done" line does not make a run skip a step.
* A saved plan's MAC (``domain/restore/authentic.py``) covers every field.

End to end against the emulator over HTTPS, with a real repository.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import orjson
import pytest

from entra_backup.domain.restore.authentic import PlanNotAuthentic, check_plan, seal_plan
from entra_backup.domain.restore.plan import Action, PlanItem, RestorePlan
from entra_backup.services.restore.execute import item_keys
from entra_backup.services.restore.ids import EarlierRestores
from entra_backup.services.restore.journal import (
    FINISHED,
    Journal,
    JournalEntry,
    JournalSeal,
)
from entra_backup.services.restore.plan import RestoreOptions, make_plan
from entra_backup.services.restore.report import DONE, FAILED, ItemResult, RestoreReport
from entra_backup.services.restore.runs import earlier_id_map, start_run
from entra_backup.store.keys.passphrase import allow_weak_kdf_for_tests
from tests.services._backup_support import graph_client
from tests.services._restore_support import RestoreWorld, backed_up_world, rolled_back

allow_weak_kdf_for_tests()

CHECKPOINT = "tamper-backed-up"
ATTACKER_TITLE = "Attacker's title"


@pytest.fixture(scope="module")
def backed_up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestoreWorld]:
    with backed_up_world(tmp_path_factory.mktemp("tamper"), users=30, seed=17,
                         checkpoint=CHECKPOINT, restored=("users", "groups")) as world:
        yield world


@pytest.fixture
def world(backed_up: RestoreWorld) -> RestoreWorld:
    return rolled_back(backed_up)


def _job_title(world: RestoreWorld, user: str) -> object:
    return world.graph.get(f"users/{user}", {"$select": "jobTitle"}).get("jobTitle")


def _tampered(plan: RestorePlan, item: PlanItem, changed: PlanItem) -> RestorePlan:
    return replace(plan, items=[changed if i == item else i for i in plan.items])


def _result(report: RestoreReport, object_id: str) -> ItemResult:
    [found] = [r for r in report.items if r.object_id == object_id]
    return found


def _changed_user(world: RestoreWorld) -> tuple[str, RestorePlan, PlanItem]:
    """A user whose jobTitle changed since the backup, the plan, and its update."""
    user = world.member_users()[0]
    world.graph.call("PATCH", f"users/{user}", {"jobTitle": ATTACKER_TITLE}, expect=204)
    plan = world.plan()
    [update] = [i for i in plan.items if i.action is Action.UPDATE and i.object_id == user]
    return user, plan, update


# --- items re-checked before writing -------------------------------------------------------


@pytest.mark.parametrize("remove_new", [False, True])
def test_an_update_turned_into_a_remove_deletes_nothing(
        world: RestoreWorld, tmp_path: Path, remove_new: bool) -> None:
    user, plan, update = _changed_user(world)
    plan = _tampered(plan, update, replace(update, action=Action.REMOVE))
    plan.options["remove_new"] = remove_new

    report = world.execute(plan, tmp_path / "journal.jsonl")

    assert world.graph.get_or_none(f"users/{user}") is not None, "the user was not removed"
    refused = _result(report, user)
    assert refused.outcome == FAILED
    assert "not written" in refused.reason
    assert ("in the snapshot" if remove_new else "--remove-new") in refused.reason


def test_a_live_id_pointing_at_another_user_writes_nothing_there(
        world: RestoreWorld, tmp_path: Path) -> None:
    user, plan, update = _changed_user(world)
    victim = world.member_users()[1]
    before = _job_title(world, victim)
    plan = _tampered(plan, update, replace(update, live_id=victim))

    report = world.execute(plan, tmp_path / "journal.jsonl")

    assert _job_title(world, victim) == before
    refused = _result(report, user)
    assert refused.outcome == FAILED and f"live id {victim}" in refused.reason


def test_a_property_no_update_writes_fails_instead_of_a_silent_no_op(
        world: RestoreWorld, tmp_path: Path) -> None:
    user, plan, update = _changed_user(world)
    plan = _tampered(plan, update, replace(update, properties=("foo",)))

    report = world.execute(plan, tmp_path / "journal.jsonl")

    refused = _result(report, user)
    assert refused.outcome == FAILED and "foo" in refused.reason
    assert _job_title(world, user) == ATTACKER_TITLE


def test_an_edge_or_object_the_snapshot_lacks_is_not_written(
        world: RestoreWorld, tmp_path: Path) -> None:
    group = world.assigned_security_groups()[0]
    outsider = next(u for u in world.member_users() if u not in world.members(group))
    newcomer = world.tenant.create_user("tamper.newcomer")
    plan = RestorePlan(world.snapshot.tenant, world.snapshot.id, "2026-12-01T00:00:00+00:00",
                       RestoreOptions(types=("users", "groups")).to_json(), items=[
        PlanItem(Action.ADD_EDGES, "groups", group, "forged", relationship="members",
                 edges=(outsider,)),
        PlanItem(Action.UPDATE, "users", newcomer, "forged", live_id=newcomer,
                 properties=("jobTitle",))])

    report = world.execute(plan, tmp_path / "journal.jsonl")

    live_members = {m["id"] for m in world.graph.iterate(f"groups/{group}/members")}
    assert outsider not in live_members
    assert [r.outcome for r in report.items] == [FAILED, FAILED]
    assert "hold no" in _result(report, group).reason
    assert "not a users object of the snapshot" in _result(report, newcomer).reason


def test_a_plan_made_by_the_planner_passes_the_checks(
        world: RestoreWorld, tmp_path: Path) -> None:
    user, plan, _ = _changed_user(world)
    report = world.execute(plan, tmp_path / "journal.jsonl")
    assert report.ok, [r for r in report.items if r.outcome == FAILED]
    assert _job_title(world, user) == world.stored["users"][user].get("jobTitle")


# --- journals --------------------------------------------------------------------------


def _plan_with_known(world: RestoreWorld, known: EarlierRestores) -> RestorePlan:
    async def go() -> RestorePlan:
        async with graph_client(world.live) as client:
            return await make_plan(client, world.repo, world.snapshot,
                                   RestoreOptions(types=("users", "groups")),
                                   known_ids=known)
    return asyncio.run(go())


def test_a_journal_edited_to_map_a_stored_object_to_another_id_is_not_used(
        world: RestoreWorld, tmp_path: Path) -> None:
    group, attacker = world.assigned_security_groups()[:2]
    world.hard_delete_group(group)
    home, keys, tenant = tmp_path / "home", world.repo.keys, world.snapshot.tenant
    first = _plan_with_known(world, earlier_id_map(home, tenant, keys))
    run = start_run(home, first, keys)
    report = world.execute(first, run.journal)
    assert report.ok, [r for r in report.items if r.outcome == FAILED]
    assert earlier_id_map(home, tenant, keys).ids == {group: report.id_map[group]}

    lines = run.journal.read_bytes().splitlines()
    edited: list[bytes] = []
    for line in lines:
        value = orjson.loads(line)
        if value.get("new_id") == report.id_map[group]:
            value["new_id"] = attacker
            number = len(edited) + 1
        edited.append(orjson.dumps(value))
    run.journal.write_bytes(b"\n".join(edited) + b"\n")

    warnings: list[str] = []
    known = earlier_id_map(home, tenant, keys, warnings)

    assert group not in known.ids
    assert warnings == [f"line {number} of the journal of restore run {run.id} does not "
                        "authenticate (changed, or not written by this repository's "
                        "restores); ignored"]
    assert _plan_with_known(world, known).matched.get(group) != attacker


def test_a_forged_done_line_does_not_skip_the_step(world: RestoreWorld, tmp_path: Path) -> None:
    user, plan, update = _changed_user(world)
    journal = tmp_path / "run" / "journal.jsonl"
    [key] = [k for k, i in zip(item_keys(plan.ordered()), plan.ordered(), strict=True)
             if i == update]
    forger = JournalSeal(lambda data: hmac.new(b"not the repository's key", data,
                                               hashlib.sha256).digest(),
                         world.repo.id, plan.tenant, plan.snapshot, "run")
    log = Journal.open(journal, {"tenant": plan.tenant, "snapshot": plan.snapshot,
                                 "plan_created_at": plan.created_at}, forger)
    log.record(JournalEntry(key, FINISHED, DONE))
    log.close()

    report = world.execute(plan, journal)

    assert report.ok
    assert not _result(report, user).resumed, "the forged line was not believed"
    assert _job_title(world, user) == world.stored["users"][user].get("jobTitle")


def test_a_journal_line_authenticates_only_in_its_own_run_and_repository(
        tmp_path: Path) -> None:
    def mac(key: bytes) -> JournalSeal:
        return JournalSeal(lambda data: hmac.new(key, data, hashlib.sha256).digest(),
                           "repo", "t", "s", "run-a")

    header = {"tenant": "t", "snapshot": "s", "plan_created_at": "c"}
    path = tmp_path / "journal.jsonl"
    written = Journal.open(path, header, mac(b"k"))
    written.record(JournalEntry("recreate:groups:g", FINISHED, DONE, new_id="n"))
    written.close()

    assert set(Journal.open(path, header, mac(b"k")).entries) == {"recreate:groups:g"}
    for other in (replace(mac(b"k"), run="run-b"), replace(mac(b"k"), repository="other"),
                  replace(mac(b"k"), snapshot="s2"), mac(b"another key")):
        read = Journal.open(path, header, other)
        assert read.entries == {} and read.rejected == [2]


# --- the plan's MAC --------------------------------------------------------------------


def test_a_plans_mac_covers_every_field() -> None:
    def mac(data: bytes) -> bytes:
        return hmac.new(b"k", data, hashlib.sha256).digest()

    value = {"format": "x", "items": [{"action": "update", "live_id": "a"}],
             "live_state": {"users": "d"}, "matched": {"a": "b"}}
    sealed = seal_plan(value, mac)
    check_plan(sealed, mac, "plan.json")
    check_plan(dict(reversed(list(sealed.items()))), mac, "plan.json")  # key order: same
    changed = orjson.loads(orjson.dumps(sealed))
    changed["items"][0]["live_id"] = "b"
    for wrong in (changed, {**sealed, "live_state": {}}, {**sealed, "matched": {"a": "c"}},
                  {**sealed, "matched": {}},
                  {k: v for k, v in sealed.items() if k != "mac"}):
        with pytest.raises(PlanNotAuthentic):
            check_plan(wrong, mac, "plan.json")
    with pytest.raises(PlanNotAuthentic):
        check_plan(sealed, lambda data: hmac.new(b"other", data, hashlib.sha256).digest(),
                   "plan.json")
