"""Fixtures for end-to-end tests of the Graph client against the emulator over HTTPS."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator

import pytest

from entra_backup.graph.budget import TenantSize
from entra_backup.graph.client import GraphClient, TenantConnection
from tests.support.live_emulator import LiveEmulator


class EmulatorClock:
    """The client's clock, tied to the emulator's: sleeping advances the emulator's clock.

    Retry-After and budget waits then pass at once for both sides, and the emulator's
    throttling sees them as honoured.
    """

    def __init__(self, emulator: LiveEmulator) -> None:
        self.emulator = emulator
        self.shift = 0.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return time.monotonic() + self.shift

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        self.sleeps.append(seconds)
        self.shift += seconds
        self.emulator.control("POST", "/clock/advance", {"seconds": seconds})


def connection(emulator: LiveEmulator, **changes: object) -> TenantConnection:
    """A tenant connection to the emulator's default tenant and app."""
    values: dict[str, object] = {
        "tenant_id": emulator.tenant_id, "client_id": emulator.client_id,
        "credential": emulator.client_secret, "authority": emulator.authority,
        "graph_url": emulator.graph_url, "ca_bundle": emulator.ca_bundle,
        "size": TenantSize.MEDIUM,
    }
    values.update(changes)
    return TenantConnection(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def private_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveEmulator]:
    """An emulator of this module only, for tests that change data, settings or its clock."""
    with LiveEmulator.running(tmp_path_factory.mktemp("graph-emulator"), users=40, seed=11,
                              throttle="off") as live:
        yield live


@pytest.fixture
async def client(emulator: LiveEmulator) -> AsyncIterator[GraphClient]:
    """A client of the shared emulator's default tenant."""
    async with GraphClient.connect(connection(emulator)) as graph:
        yield graph


def reset(emulator: LiveEmulator) -> None:
    """Back to no throttling and no faults."""
    emulator.control("POST", "/settings", {"throttle": "off", "fault_rate": 0})

