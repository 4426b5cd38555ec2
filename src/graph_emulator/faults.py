"""Seeded fault injection: the transient failures a Graph client must survive.

A fraction of routed calls (``rate``) fail with 429, 500, 502, 503 or 504, have their
connection dropped (before or after the handler ran: the nastier case, a write applied
whose answer never arrives), or answer slowly. The draws come from one
``random.Random(seed)``, so a given seed and request order always give the same faults.
The HTTP layer carries out drops and delays (:mod:`graph_emulator.http_faults`) from the
``x-emulator-*`` headers set here. ``$batch`` itself only suffers connection faults and
each of its requests only service faults. The identity and control endpoints never see
faults, because only the Graph pipeline runs this gate.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

from graph_emulator.context import Context
from graph_emulator.protocol import GraphError
from graph_emulator.routing import Route
from graph_emulator.throttle import RetryLedger

DROP_HEADER = "x-emulator-drop"
DELAY_HEADER = "x-emulator-delay-ms"
SLOW_MS = (2_000, 8_000)
"""How long a slow response takes, in milliseconds (long enough to trip short timeouts)."""


@dataclass(frozen=True)
class Fault:
    """One kind of fault and how often it is chosen among faults."""

    kind: str
    weight: int
    status: int = 0
    code: str = ""
    message: str = ""


FAULTS = (
    Fault("throttled", 3, 429, "TooManyRequests",
          "Too many requests. Wait for the time Retry-After gives, then retry."),
    Fault("internal", 1, 500, "generalException", "An unexpected error occurred."),
    Fault("badGateway", 1, 502, "BadGateway", "The upstream service did not answer in time."),
    Fault("unavailable", 2, 503, "serviceNotAvailable",
          "The service is temporarily unavailable. Retry after a delay."),
    Fault("gatewayTimeout", 1, 504, "UnknownError", ""),
    Fault("dropBefore", 1),
    Fault("dropAfter", 1),
    Fault("slow", 1),
)
TRANSPORT_KINDS = frozenset({"dropBefore", "dropAfter", "slow"})
"""Faults of the connection itself: impossible for a request inside ``$batch``."""
BATCH_TEMPLATE = "/$batch"


class Faults:
    """The fault-injection gate."""

    def __init__(self, rate: float = 0.0, seed: int = 1,
                 ledger: RetryLedger | None = None) -> None:
        self.rate = check_rate(rate)
        self.seed = seed
        self.ledger = ledger or RetryLedger()
        self.injected: dict[str, int] = {}
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def reseed(self, seed: int) -> None:
        """Restart the fault sequence from ``seed``."""
        with self._lock:
            self.seed = seed
            self._random = random.Random(seed)

    def admit(self, ctx: Context, route: Route) -> dict[str, str]:
        """Nothing, a header the HTTP layer acts on, or a transient Graph error."""
        with self._lock:
            if self.rate <= 0 or self._random.random() >= self.rate:
                return {}
            choices = _choices(ctx, route)
            fault = self._random.choices(choices, [f.weight for f in choices])[0]
            self.injected[fault.kind] = self.injected.get(fault.kind, 0) + 1
            if fault.kind == "dropAfter":
                return {DROP_HEADER: "1"}
            if fault.kind == "slow":
                return {DELAY_HEADER: str(self._random.randint(*SLOW_MS))}
            if fault.kind == "dropBefore":
                raise GraphError(502, "BadGateway", "", headers={DROP_HEADER: "1"})
            raise GraphError(fault.status, fault.code, fault.message,
                             headers=self._retry_after(ctx, fault))

    def _retry_after(self, ctx: Context, fault: Fault) -> dict[str, str]:
        # 429s always say when to retry; 503s only sometimes, as the service does.
        if fault.status == 429 or (fault.status == 503 and self._random.random() < 0.5):
            seconds = self._random.randint(1, 5)
            key = (ctx.tenant.tenant_id, ctx.caller.client_id)
            self.ledger.promise(key, ctx.clock.now(), seconds)
            return {"Retry-After": str(seconds)}
        return {}


def _choices(ctx: Context, route: Route) -> list[Fault]:
    # A batch fails as a connection (its operations draw their own service faults); an
    # operation inside a batch has no connection of its own to drop or slow down.
    if route.template == BATCH_TEMPLATE:
        return [f for f in FAULTS if f.kind in TRANSPORT_KINDS]
    if ctx.request.in_batch:
        return [f for f in FAULTS if f.kind not in TRANSPORT_KINDS]
    return list(FAULTS)


def check_rate(rate: float) -> float:
    """A fault rate between 0 and 1, or a clear error."""
    if isinstance(rate, bool) or not 0.0 <= float(rate) <= 1.0:
        raise ValueError(f"fault rate must be between 0 and 1, not {rate}")
    return float(rate)
