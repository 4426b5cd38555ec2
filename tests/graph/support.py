"""Helpers shared by the Graph client tests."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

import httpx

from entra_backup.graph.budget import TenantSize, ThrottleBudget
from entra_backup.graph.transport import GraphTransport, RetryPolicy


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


class StaticTokens:
    """A token source handing out numbered tokens; ``invalidate`` moves to the next one."""

    def __init__(self) -> None:
        self.issued = 1
        self.invalidations = 0

    async def atoken(self) -> str:
        return f"token-{self.issued}"

    def invalidate(self) -> None:
        self.invalidations += 1
        self.issued += 1


GRAPH = "https://graph.test/v1.0"


Handler = Callable[[httpx.Request], httpx.Response]


def mock_transport(handler: Handler | None, clock: ManualClock | None = None,
                   policy: RetryPolicy | None = None, graph: str = GRAPH) -> GraphTransport:
    """A transport whose HTTP exchanges are answered by ``handler`` (crafted failures);
    without one, by the real network stack. ``graph`` is its Graph base URL."""
    budget = ThrottleBudget(TenantSize.LARGE, clock=clock or ManualClock())
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler) if handler else None)
    return GraphTransport(graph, StaticTokens(), budget, http=http, policy=policy,
                          rng=random.Random(7))


def graph_error(status: int, code: str, message: str = "",
                headers: dict[str, str] | None = None) -> httpx.Response:
    """A Graph-shaped error response."""
    return httpx.Response(status, headers=headers,
                          json={"error": {"code": code, "message": message}})
