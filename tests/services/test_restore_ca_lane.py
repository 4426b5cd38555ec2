"""Conditional Access writes go through their own lane, one a second, never batched.

Graph serves Conditional Access policy writes through a lane of one request per second
and answers a faster client 429 without ``Retry-After``. Sharing one ``$batch`` among
many policy updates sent them all at once: the lane refused all but one, the client
backed off exponentially, and a restore of 22 renamed policies took ten times its
estimate and failed past the retry deadline. Each policy write now goes alone through
the client's serial lane, which paces it at the lane's rate.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from entra_backup.graph.client import GraphClient
from entra_backup.services.restore.execute import execute_plan
from entra_backup.services.restore.plan import RestoreOptions, make_plan
from entra_backup.store.keys.passphrase import allow_weak_kdf_for_tests
from tests.graph.conftest import EmulatorClock, connection
from tests.services._backup_support import LiveGraph
from tests.services._restore_support import RestoreWorld, backed_up_world, rolled_back

allow_weak_kdf_for_tests()

POLICIES = 50
TYPE = "conditionalAccessPolicies"
LANE_SECONDS_PER_WRITE = 1.0
"""The lane's documented rate (docs/emulator-throttling.md)."""


def _many_policies(graph: LiveGraph) -> None:
    for n in range(POLICIES):
        graph.call("POST", "identity/conditionalAccess/policies", {
            "displayName": f"Lane policy {n:02d}", "state": "enabledForReportingButNotEnforced",
            "conditions": {"clientAppTypes": ["all"],
                           "applications": {"includeApplications": ["All"]},
                           "users": {"includeUsers": ["All"]}},
            "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}}, expect=201)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestoreWorld]:
    with backed_up_world(tmp_path_factory.mktemp("ca-lane"), users=20, seed=29,
                         checkpoint="ca-lane", restored=(TYPE,),
                         shape=_many_policies) as built:
        yield built


@pytest.mark.slow
def test_fifty_renamed_policies_are_restored_at_the_lane_rate(
        world: RestoreWorld, tmp_path: Path) -> None:
    rolled_back(world)
    policies = [p for p in world.graph.iterate("identity/conditionalAccess/policies")
                if p["displayName"].startswith("Lane policy")]
    for policy in policies:
        world.graph.call("PATCH", f"identity/conditionalAccess/policies/{policy['id']}",
                         {"displayName": policy["displayName"] + " (tampered)"}, expect=204)
    world.live.control("POST", "/settings", {"throttle": "real"})
    world.live.control("POST", "/throttle/reset", {})
    try:
        clock = EmulatorClock(world.live)

        async def go() -> tuple[int, float]:
            async with GraphClient.connect(connection(world.live), clock=clock) as client:
                plan = await make_plan(client, world.repo, world.snapshot,
                                       RestoreOptions(types=(TYPE,)))
                started = clock.now()
                report = await execute_plan(client, world.repo, world.snapshot, plan,
                                            tmp_path / "journal", default_password=None)
                assert report.ok, [i.reason for i in report.failed]
                return plan.writes()["conditional_access"], clock.now() - started
        writes, elapsed = asyncio.run(go())
        settings = world.live.control("GET", "/settings")
    finally:
        world.live.control("POST", "/settings", {"throttle": "off"})
    assert writes == len(policies) == POLICIES
    assert elapsed <= 1.2 * writes * LANE_SECONDS_PER_WRITE
    assert sum(settings["throttled"].values()) == 0
    assert settings["retried_too_early"] == 0
    assert world.differences([TYPE]) == []
