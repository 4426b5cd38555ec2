"""Licences come back with a restore, through ``assignLicense`` (emulator over HTTPS).

Graph sets licences only through the action, never by writing ``assignedLicenses``; a
re-created user gets its backed-up licences right after the create (its
``usageLocation`` is in the create body), and a user whose licences were changed gets
exactly the difference assigned and removed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from entra_backup.domain.restore.plan import Action, RestorePlan
from entra_backup.services.restore.report import RestoreReport
from entra_backup.store.keys.passphrase import allow_weak_kdf_for_tests
from tests.services._restore_support import (
    RestoreWorld,
    assert_nothing_left,
    backed_up_world,
    rolled_back,
)

allow_weak_kdf_for_tests()

CHECKPOINT = "licences-backed-up"


def restore(world: RestoreWorld, journal: Path) -> tuple[RestorePlan, RestoreReport]:
    plan = world.plan(types=("users",))
    return plan, world.execute(plan, journal)


def licensed_users(world: RestoreWorld) -> list[str]:
    return sorted(i for i, u in world.stored["users"].items()
                  if not u["onPremisesSyncEnabled"] and u["usageLocation"]
                  and len(u["assignedLicenses"]) >= 2)


def licences(world: RestoreWorld, user: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = world.graph.get(
        f"users/{user}", {"$select": "assignedLicenses"})["assignedLicenses"]
    return sorted(found, key=lambda lic: str(lic["skuId"]))


def stored_licences(world: RestoreWorld, user: str) -> list[dict[str, Any]]:
    return sorted(world.stored["users"][user]["assignedLicenses"],
                  key=lambda lic: str(lic["skuId"]))


@pytest.fixture(scope="module")
def backed_up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestoreWorld]:
    with backed_up_world(tmp_path_factory.mktemp("restore-licences"), users=40, seed=41,
                         checkpoint=CHECKPOINT, compared=("users",)) as world:
        assert licensed_users(world), "the generated tenant should license some users"
        yield world


@pytest.fixture
def world(backed_up: RestoreWorld) -> RestoreWorld:
    return rolled_back(backed_up)


@pytest.mark.slow
def test_a_recreated_user_gets_its_licences_back(world: RestoreWorld, tmp_path: Path) -> None:
    user = licensed_users(world)[0]
    world.graph.call("DELETE", f"users/{user}", expect=204)
    world.graph.call("DELETE", f"directory/deletedItems/{user}", expect=204)

    plan, report = restore(world, tmp_path / "journal.jsonl")

    recreate = next(i for i in plan.items if i.object_id == user)
    assert (recreate.action, recreate.writes) == (Action.RECREATE, 2), \
        "the create and one assignLicense"
    assert report.ok, report.failed
    assert licences(world, report.id_map[user]) == stored_licences(world, user)
    assert_nothing_left(world, [tmp_path / "journal.jsonl"])


@pytest.mark.slow
def test_changed_licences_are_set_back_exactly(world: RestoreWorld, tmp_path: Path) -> None:
    user = licensed_users(world)[0]
    stored = stored_licences(world, user)
    dropped = str(stored[0]["skuId"])
    world.graph.call("POST", f"users/{user}/assignLicense",
                     {"addLicenses": [], "removeLicenses": [dropped]}, expect=200)
    assert licences(world, user) != stored

    plan, report = restore(world, tmp_path / "journal.jsonl")

    updates = [i for i in plan.items if i.action is Action.UPDATE]
    assert [(i.object_id, i.properties) for i in updates] == [(user, ("assignedLicenses",))]
    assert report.ok, report.failed
    assert licences(world, user) == stored
    assert_nothing_left(world, [tmp_path / "journal.jsonl"])
