"""Helpers shared by the Graph client tests."""

from __future__ import annotations

import asyncio


class ManualClock:
    """A clock that moves only when told or when someone sleeps on it.

    ``sleep`` advances time by the requested amount at once and records it, so a test can
    check how long the code chose to wait without waiting.
    """

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds

    async def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.sleeps.append(seconds)
            self._now += seconds
        await asyncio.sleep(0)
