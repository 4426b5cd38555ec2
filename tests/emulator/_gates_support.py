"""Helpers for the throttling, fault and batch tests: probe routes with a chosen cost."""

from __future__ import annotations

from typing import Any

from graph_emulator.clock import Clock
from graph_emulator.context import Context
from graph_emulator.gates import GateHandles, install
from graph_emulator.protocol import GraphResponse
from tests.support.inprocess import InProcess

START = 1_700_000_000.0
"""A round epoch second: Retry-After arithmetic on the frozen clock stays exact."""


def emulator(*, throttle: str = "real", fault_rate: float = 0.0, seed: int = 1,
             users: int = 0) -> tuple[InProcess, GateHandles]:
    """An in-process emulator on a frozen clock with the gates installed."""
    p = InProcess(Clock(start=START, frozen=True))
    for number in range(users):
        p.loader.add("users", {"id": f"00000000-0000-4000-8000-{number:012d}",
                               "displayName": f"User {number}",
                               "userPrincipalName": f"user{number}@contoso.example"})
    return p, install(p.emulator, throttle=throttle, fault_rate=fault_rate, seed=seed)


def echo(ctx: Context) -> GraphResponse:
    """Answers the request body (or a small object), so a test sees what arrived."""
    body: Any = ctx.request.json() if ctx.request.body else {"ok": True}
    return GraphResponse(200, body)


def probe(p: InProcess, cost: int, *, method: str = "GET", lane: str = "directory") -> str:
    """Register a route costing ``cost`` resource units in ``lane``; returns its URL."""
    url = f"/probe/{lane}/{method.lower()}/{cost}"
    p.emulator.router.add(method, url, echo, (), resource_units=cost, lane=lane)
    return url
