"""Licences come back with a restore, through ``assignLicense`` (emulator over HTTPS).

Graph sets licences only through the action, never by writing ``assignedLicenses``; a
re-created user gets its backed-up licences right after the create (its
``usageLocation`` is in the create body), and a user whose licences were changed gets
exactly the difference assigned and removed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from entra_backup.domain.restore.plan import Action, RestorePlan
from entra_backup.services.restore.execute import execute_plan
from entra_backup.services.restore.plan import RestoreOptions, make_plan
from entra_backup.services.restore.report import RestoreReport
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

PASSWORD = "Licence!2026-Restore"
CHECKPOINT = "licences-backed-up"


@dataclass
class World:
    live: LiveEmulator
    graph: LiveGraph
    repo: Repository
    snapshot: Snapshot
    stored: State

    def restore(self, journal: Path) -> tuple[RestorePlan, RestoreReport]:
        async def go() -> tuple[RestorePlan, RestoreReport]:
            async with graph_client(self.live) as client:
                plan = await make_plan(client, self.repo, self.snapshot,
                                       RestoreOptions(types=("users",)))
                report = await execute_plan(client, self.repo, self.snapshot, plan, journal,
                                            default_password=PASSWORD)
                return plan, report
        return asyncio.run(go())

    def licensed_users(self) -> list[str]:
        return sorted(i for i, u in self.stored["users"].items()
                      if not u["onPremisesSyncEnabled"] and u["usageLocation"]
                      and len(u["assignedLicenses"]) >= 2)

    def licences(self, user: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.graph.get(
            f"users/{user}", {"$select": "assignedLicenses"})["assignedLicenses"]
        return sorted(found, key=lambda lic: str(lic["skuId"]))

    def stored_licences(self, user: str) -> list[dict[str, Any]]:
        return sorted(self.stored["users"][user]["assignedLicenses"],
                      key=lambda lic: str(lic["skuId"]))


@pytest.fixture(scope="module")
def backed_up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("restore-licences")
    live = LiveEmulator.start(root / "emulator", users=40, seed=41, throttle="off")
    graph = LiveGraph(live)
    try:
        repo = new_repo(root / "repo")
        _, snapshot = asyncio.run(backup(live, repo))
        live.control("POST", "/state/checkpoint", {"name": CHECKPOINT})
        world = World(live, graph, repo, snapshot, snapshot_state(repo, snapshot, ("users",)))
        assert world.licensed_users(), "the generated tenant should license some users"
        yield world
    finally:
        graph.close()
        live.stop()


@pytest.fixture
def world(backed_up: World) -> World:
    backed_up.live.control("POST", "/state/rollback", {"name": CHECKPOINT})
    return backed_up


def test_a_recreated_user_gets_its_licences_back(world: World, tmp_path: Path) -> None:
    user = world.licensed_users()[0]
    world.graph.call("DELETE", f"users/{user}", expect=204)
    world.graph.call("DELETE", f"directory/deletedItems/{user}", expect=204)

    plan, report = world.restore(tmp_path / "journal.jsonl")

    recreate = next(i for i in plan.items if i.object_id == user)
    assert (recreate.action, recreate.writes) == (Action.RECREATE, 2), \
        "the create and one assignLicense"
    assert report.ok, report.failed
    assert world.licences(report.id_map[user]) == world.stored_licences(user)


def test_changed_licences_are_set_back_exactly(world: World, tmp_path: Path) -> None:
    user = world.licensed_users()[0]
    stored = world.stored_licences(user)
    dropped = str(stored[0]["skuId"])
    world.graph.call("POST", f"users/{user}/assignLicense",
                     {"addLicenses": [], "removeLicenses": [dropped]}, expect=200)
    assert world.licences(user) != stored

    plan, report = world.restore(tmp_path / "journal.jsonl")

    updates = [i for i in plan.items if i.action is Action.UPDATE]
    assert [(i.object_id, i.properties) for i in updates] == [(user, ("assignedLicenses",))]
    assert report.ok, report.failed
    assert world.licences(user) == stored
