"""The per-tenant throttle budget: requests wait here before they are sent.

Graph's identity limits are token buckets (https://learn.microsoft.com/graph/throttling-limits):
resource units (RU) per app and tenant, sized by the tenant (S < 50 users: 3,500 RU per
10 s; M up to 500: 5,000; L: 8,000), writes at 3,000 per 150 s, Conditional Access and
identity protection at 1 request per second per tenant. Spending our own copy of those
buckets keeps us under the limit instead of discovering it through 429s. The copy is
corrected by what Graph reports: ``x-ms-resource-unit`` (the real charge of a request,
learnt per kind of request), ``x-ms-throttle-limit-percentage`` (sent from 80 % of the
limit: we slow down) and ``Retry-After`` on a 429 (every request of that throttle scope
pauses, not only the one that was refused).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from enum import Enum

from entra_backup.graph.clock import Clock, SystemClock
from entra_backup.graph.costs import Lane, RequestCost
from entra_backup.graph.counters import GraphCounters

RU_WINDOW_SECONDS = 10.0
WRITE_QUOTA = 3000
WRITE_WINDOW_SECONDS = 150.0
REPORTS_QUOTA = 5
REPORTS_WINDOW_SECONDS = 10.0
SERIAL_INTERVAL_SECONDS = 1.1
"""The Conditional Access lane allows 1 request/s. The gap is measured when a request
leaves this client; network and server jitter can bring two requests closer than that at
Graph's end (measured: sent 1.002 s apart, received 0.996 s apart, refused), and these
refusals carry no Retry-After, so the lane keeps a 10 % margin."""
SLOWDOWN_FLOOR = 0.2
RECOVERY_STEP = 0.02
# Waits shorter than this are rounding noise; sleeping on them could never end.
_NEGLIGIBLE = 1e-6


class TenantSize(Enum):
    """The tenant sizes of the identity RU limit, with their RU per 10 seconds."""

    SMALL = 3500
    MEDIUM = 5000
    LARGE = 8000

    @classmethod
    def for_users(cls, users: int) -> TenantSize:
        """The size class of a tenant with ``users`` users."""
        if users < 50:
            return cls.SMALL
        return cls.MEDIUM if users <= 500 else cls.LARGE


class TokenBucket:
    """A bucket of ``capacity`` tokens refilled evenly over ``period`` seconds.

    It may go into debt (a request turned out dearer than estimated); later requests then
    wait for the debt to be paid back. ``rate_factor`` below 1 slows the refill.
    """

    def __init__(self, capacity: float, period: float, clock: Clock) -> None:
        self.capacity = capacity
        self.rate = capacity / period
        self.rate_factor = 1.0
        self._clock = clock
        self._tokens = capacity
        self._updated = clock.now()

    @property
    def tokens(self) -> float:
        """Tokens available now."""
        self._refill()
        return self._tokens

    def delay_for(self, amount: float) -> float:
        """Seconds until ``amount`` tokens are available (0 when they are now)."""
        needed = min(amount, self.capacity) - self.tokens
        return 0.0 if needed <= 0 else needed / (self.rate * self.rate_factor)

    def take(self, amount: float) -> None:
        """Spend tokens (the balance may go below zero)."""
        self._refill()
        self._tokens -= amount

    def _refill(self) -> None:
        now = self._clock.now()
        gained = (now - self._updated) * self.rate * self.rate_factor
        self._tokens = min(self.capacity, self._tokens + gained)
        self._updated = now


@dataclass
class Admission:
    """A request let through the budget: what was charged for it."""

    cost: RequestCost
    charged_units: int
    calibrate: bool = True


@dataclass
class _Pauses:
    until: dict[Lane, float] = field(default_factory=dict)

    def remaining(self, lanes: Sequence[Lane], now: float) -> float:
        return max((self.until.get(lane, 0.0) - now for lane in lanes), default=0.0)

    def extend(self, lanes: Sequence[Lane], until: float) -> None:
        for lane in lanes:
            self.until[lane] = max(self.until.get(lane, 0.0), until)


class ThrottleBudget:
    """The budget of one app in one tenant. Share one instance per tenant connection."""

    def __init__(self, size: TenantSize = TenantSize.MEDIUM, *, clock: Clock | None = None,
                 counters: GraphCounters | None = None) -> None:
        self.clock: Clock = clock or SystemClock()
        self.counters = counters or GraphCounters()
        self.size = size
        self.units = TokenBucket(size.value, RU_WINDOW_SECONDS, self.clock)
        self.writes = TokenBucket(WRITE_QUOTA, WRITE_WINDOW_SECONDS, self.clock)
        self.reports = TokenBucket(REPORTS_QUOTA, REPORTS_WINDOW_SECONDS, self.clock)
        self.learnt: dict[tuple[str, str, frozenset[str]], int] = {}
        self._pauses = _Pauses()
        self._serial = asyncio.Lock()
        self._serial_last = -SERIAL_INTERVAL_SECONDS

    def charge_of(self, cost: RequestCost) -> int:
        """RU to charge: what Graph last charged for this kind of request, else the estimate."""
        if cost.resource_units == 0:
            return 0
        return self.learnt.get(cost.key, cost.resource_units)

    @asynccontextmanager
    async def admit(self, cost: RequestCost, *, units: int | None = None,
                    writes: int | None = None) -> AsyncIterator[Admission]:
        """Wait until the request may be sent, charge it, and hold the serial lane if needed.

        ``units`` and ``writes`` override the charge (a ``$batch`` sums its requests).
        """
        charged = self.charge_of(cost) if units is None else units
        write_count = cost.writes if writes is None else writes
        lanes = _lanes_of(cost.lane, write_count)
        if cost.lane is Lane.SERIAL:
            async with self._serial:
                await self._wait(lanes, [], self._serial_gap)
                self._serial_last = self.clock.now()
                yield Admission(cost, 0)
            return
        buckets: list[tuple[TokenBucket, float]] = [(self.units, charged)]
        if write_count:
            buckets.append((self.writes, write_count))
        if cost.lane is Lane.REPORTS:
            buckets.append((self.reports, 1))
        await self._wait(lanes, buckets)
        for bucket, amount in buckets:
            bucket.take(amount)
        yield Admission(cost, charged, calibrate=units is None)

    def observe(self, admission: Admission, status: int, headers: Mapping[str, str]) -> None:
        """Learn from a response: the real RU charge and how close the tenant is to its limit."""
        measured = _int_header(headers, "x-ms-resource-unit")
        if admission.calibrate:
            self.record_units(admission.cost, admission.charged_units, measured)
        self._adjust_speed(headers)

    def record_units(self, cost: RequestCost, charged: int, measured: int | None) -> None:
        """Account a request's real cost (``measured``, else the charge) and learn it."""
        if measured is None:
            self.counters.resource_units += charged
            return
        self.counters.resource_units += measured
        if cost.resource_units:
            self.learnt[cost.key] = measured
            self.units.take(measured - charged)

    def pause(self, lane: Lane, seconds: float, scope: str | None = None) -> None:
        """Hold back every request of the throttled scope for ``seconds``.

        ``scope`` is ``x-ms-throttle-scope`` (``<who>/<Read|Write|ReadWrite>/...``); without
        it the lane of the refused request pauses.
        """
        self._pauses.extend(_scope_lanes(scope, lane), self.clock.now() + seconds)

    def pause_service(self, lane: Lane, seconds: float, scope: str | None = None) -> None:
        """Hold back the scope of a ``503``'s ``Retry-After``: without a scope, every lane.

        A 503 says the service, not one request, needs the time; Graph does not say which
        of the app's requests it counts, so reads and writes both wait.
        """
        lanes = _scope_lanes(scope, lane) if scope else [lane, Lane.READ, Lane.WRITE]
        self._pauses.extend(list(dict.fromkeys(lanes)), self.clock.now() + seconds)

    async def _wait(self, lanes: Sequence[Lane], buckets: Sequence[tuple[TokenBucket, float]],
                    gap: Callable[[], float] | None = None) -> None:
        while True:
            delay = self._pauses.remaining(lanes, self.clock.now())
            if gap is not None:
                delay = max(delay, gap())
            for bucket, amount in buckets:
                delay = max(delay, bucket.delay_for(amount))
            if delay <= _NEGLIGIBLE:
                return
            self.counters.paced_seconds += delay
            await self.clock.sleep(delay)

    def _serial_gap(self) -> float:
        return self._serial_last + SERIAL_INTERVAL_SECONDS - self.clock.now()

    def _adjust_speed(self, headers: Mapping[str, str]) -> None:
        raw = headers.get("x-ms-throttle-limit-percentage")
        bucket = self.units
        try:
            percentage = float(raw) if raw is not None else None
        except ValueError:
            percentage = None
        if percentage is None or percentage < 0.8:
            bucket.rate_factor = min(1.0, bucket.rate_factor + RECOVERY_STEP)
            return
        # 0.8 -> 90 % of the rate, 1.2 (a fifth of requests refused) -> 60 %, floor 20 %.
        target = max(SLOWDOWN_FLOOR, 0.9 * 0.8 / percentage)
        bucket.rate_factor = min(bucket.rate_factor, target)


def _lanes_of(lane: Lane, writes: int) -> list[Lane]:
    if lane in (Lane.SERIAL, Lane.REPORTS):
        return [lane]
    return [Lane.READ, Lane.WRITE] if writes else [Lane.READ]


def _scope_lanes(scope: str | None, lane: Lane) -> list[Lane]:
    if not scope or lane in (Lane.SERIAL, Lane.REPORTS):
        return [lane]
    parts = [part.lower() for part in scope.split("/")]
    kind = parts[1] if len(parts) > 1 else ""
    if kind == "readwrite":
        return [Lane.READ, Lane.WRITE]
    if kind == "write":
        return [Lane.WRITE]
    if kind == "read":
        return [Lane.READ]
    return [lane]


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        return int(float(raw))
    except ValueError:
        return None
