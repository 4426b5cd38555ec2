"""A ``Retry-After`` holds back the whole throttle scope, for a 503 as for a 429.

With several requests in flight, a client that only delays the request that was refused
keeps sending the others before the promised time; the emulator counts each of those.
The clock is the real one: advancing the emulator's clock while other requests are in
flight would make those look late.
"""

from __future__ import annotations

import asyncio

import pytest

from entra_backup.graph.client import GraphClient
from tests.graph.conftest import connection, reset
from tests.support.live_emulator import LiveEmulator

ROUNDS = 4


async def _read_many(client: GraphClient, ids: list[str], rounds: int) -> int:
    async def reader(user_id: str) -> int:
        done = 0
        for _ in range(rounds):
            await client.get(f"users/{user_id}", {"$select": "id"})
            done += 1
        return done
    return sum(await asyncio.gather(*(reader(user_id) for user_id in ids)))


@pytest.mark.slow
async def test_concurrent_reads_wait_out_every_retry_after(
        private_emulator: LiveEmulator) -> None:
    async with GraphClient.connect(connection(private_emulator)) as client:
        ids = [u["id"] async for u in client.iterate("users", {"$select": "id", "$top": "8"})]
    private_emulator.control("POST", "/settings", {"fault_rate": 0.3, "seed": 5})
    try:
        async with GraphClient.connect(connection(private_emulator), timeout=1.0) as client:
            done = await _read_many(client, ids[:8], rounds=ROUNDS)
            settings = private_emulator.control("GET", "/settings")
    finally:
        reset(private_emulator)
    assert done == 8 * ROUNDS
    assert settings["faults_injected"].get("unavailable", 0) > 0
    assert settings["retried_too_early"] == 0
