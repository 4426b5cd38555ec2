"""Shared fixtures: a real emulator over HTTPS for the whole session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.live_emulator import LiveEmulator


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveEmulator]:
    """An emulator with a generated tenant of about 120 users, throttling off."""
    with LiveEmulator.running(tmp_path_factory.mktemp("emulator"), users=120, seed=7,
                              throttle="off") as live:
        yield live
