"""Throttling as the identity and access service applies it (graph-facts.md section 4).

Every limit is a token bucket on the emulator's clock that refills continuously: the
resource-unit (RU) budget of an app in a tenant (sized by the tenant's user count), the
app's RU budget across tenants, the write quotas, the Conditional Access lane and the
reports lane. A request that does not fit is refused with 429, and it is charged all the
same, because the service keeps counting usage while a client is throttled; a client that
retries early therefore pushes its own recovery further out. See
``docs/emulator-throttling.md`` for each rule and its source.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

from graph_emulator.context import Context
from graph_emulator.protocol import GraphError, GraphRequest
from graph_emulator.routing import Route

MODES = ("real", "off")
RU_PER_10S = {"S": 3_500.0, "M": 5_000.0, "L": 8_000.0}
RESOURCE_UNIT_WINDOW = 10.0
READ_METHODS = frozenset({"GET", "HEAD"})
READ_ACTIONS = frozenset({
    "getbyids", "getobjectsbyid", "checkmembergroups", "checkmemberobjects",
    "getmembergroups", "getmemberobjects", "ismemberof",
})
"""POST actions that read: they cost resource units but no write quota."""
COST_WITH_SELECT = {"getbyids": 2, "getobjectsbyid": 2}
"""Documented costs with ``$select`` that differ from base - 1 (getByIds: 5, 2 with it)."""
EPSILON = 1e-6
"""Clock arithmetic on epoch floats loses a few microseconds; a request that arrives
exactly when Retry-After said must not be refused for that."""


@dataclass(frozen=True)
class Limit:
    """One documented limit: its budget, window and what a 429 for it says."""

    name: str
    capacity: float
    window: float
    scope: str
    """``Tenant_Application``, ``Tenant`` or ``Application`` (x-ms-throttle-scope)."""
    access: str
    """``Read``, ``Write`` or ``ReadWrite`` (x-ms-throttle-scope)."""
    information: str | None = None
    """x-ms-throttle-information on a 429, when the docs name one."""
    retry_after: bool = True
    """False for the Conditional Access lane, which answers 429 without Retry-After."""


APP_RESOURCE_UNITS = Limit("appResourceUnits", 150_000.0, 20.0, "Application", "ReadWrite",
                           "ResourceUnitLimitExceeded")
APP_TENANT_WRITES = Limit("appTenantWrites", 3_000.0, 150.0, "Tenant_Application", "Write",
                          "WriteLimitExceeded")
TENANT_WRITES = Limit("tenantWrites", 18_000.0, 300.0, "Tenant", "Write",
                      "WriteLimitExceeded")
APP_WRITES = Limit("appWrites", 35_000.0, 300.0, "Application", "Write", "WriteLimitExceeded")
CONDITIONAL_ACCESS = Limit("conditionalAccess", 1.0, 1.0, "Tenant", "ReadWrite",
                           retry_after=False)
REPORTS = Limit("reports", 5.0, 10.0, "Tenant_Application", "Read")


def app_tenant_resource_units(size_class: str) -> Limit:
    """The RU budget of one app in one tenant: 3,500, 5,000 or 8,000 per 10 s by size."""
    return Limit("appTenantResourceUnits", RU_PER_10S[size_class], RESOURCE_UNIT_WINDOW,
                 "Tenant_Application", "ReadWrite", "ResourceUnitLimitExceeded")


@dataclass
class Bucket:
    """A token bucket that refills ``capacity`` every ``window`` seconds, continuously.

    The level may fall below zero (usage counted while throttled) but never below
    ``-capacity``, so a client that hammers the service recovers within two windows.
    """

    capacity: float
    window: float
    level: float
    updated: float

    @property
    def rate(self) -> float:
        return self.capacity / self.window

    def refill(self, now: float) -> None:
        if now > self.updated:
            self.level = min(self.capacity, self.level + (now - self.updated) * self.rate)
            self.updated = now

    def fits(self, cost: float) -> bool:
        return self.level + EPSILON >= cost

    def charge(self, cost: float) -> None:
        self.level = max(-self.capacity, self.level - cost)

    def seconds_until(self, cost: float) -> float:
        """How long until ``cost`` fits, at the current level."""
        return max(0.0, (cost - self.level) / self.rate)

    def usage(self) -> float:
        """Share of the budget in use: 0 when full, 1 when empty, up to 2 in debt."""
        return (self.capacity - self.level) / self.capacity


def _action(request: GraphRequest) -> str:
    last = request.path.rstrip("/").rsplit("/", 1)[-1].lower()
    return last.removeprefix("microsoft.graph.")


def is_write(request: GraphRequest) -> bool:
    """Whether a request counts against the write quotas."""
    return request.method not in READ_METHODS and _action(request) not in READ_ACTIONS


def resource_units(request: GraphRequest, route: Route) -> int:
    """The RU cost of a request: the route's base cost with the documented modifiers.

    ``$select`` -1 (``getByIds``: 2 with it), ``$expand`` +1, ``$top`` below 20 -1, never
    below 1. A route whose
    base cost is 0 (``$batch``) is not charged: its inner requests are.
    """
    base = route.resource_units
    if base <= 0:
        return 0
    query = {key.lower(): value for key, value in request.query.items()}
    cost = base
    if "$select" in query:
        cost = COST_WITH_SELECT.get(_action(request), cost - 1)
    if "$expand" in query:
        cost += 1
    top = query.get("$top", "")
    if top.isdigit() and int(top) < 20:
        cost -= 1
    return max(1, cost)


@dataclass
class RetryLedger:
    """When each app was told it may retry, and how often it came back too early.

    Benchmarks read :attr:`too_early` to prove a client honours ``Retry-After``. A request
    that arrives within ``grace`` seconds of the 429 is not counted: a concurrent client
    had it in flight before it could have seen the answer.
    """

    grace: float = 0.5
    too_early: int = 0
    too_early_by_app: dict[tuple[str, str], int] = field(default_factory=dict)
    _promises: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def promise(self, key: tuple[str, str], issued: float, seconds: float) -> None:
        """Record that ``key`` (tenant, app) was told at ``issued`` to wait ``seconds``."""
        until = issued + seconds
        with self._lock:
            previous = self._promises.get(key)
            if previous is None or until > previous[1]:
                self._promises[key] = (issued, until)

    def observe(self, key: tuple[str, str], now: float) -> bool:
        """Count the request if it came before the promised time; True if it did."""
        with self._lock:
            return self._observe(key, now)

    def _observe(self, key: tuple[str, str], now: float) -> bool:
        promise = self._promises.get(key)
        if promise is None:
            return False
        issued, until = promise
        if now + EPSILON >= until:
            del self._promises[key]
            return False
        if now < issued + self.grace:
            return False
        self.too_early += 1
        self.too_early_by_app[key] = self.too_early_by_app.get(key, 0) + 1
        return True


@dataclass
class _Charge:
    limit: Limit
    bucket: Bucket
    amount: float


class Throttle:
    """The throttling gate: charges each routed call and refuses what does not fit."""

    def __init__(self, mode: str = "real", ledger: RetryLedger | None = None) -> None:
        self.mode = check_mode(mode)
        self.ledger = ledger or RetryLedger()
        self.throttled: dict[str, int] = {}
        """429s given, by limit name."""
        self._buckets: dict[tuple[str, ...], Bucket] = {}
        self._lock = threading.Lock()

    def admit(self, ctx: Context, route: Route) -> dict[str, str]:
        """Headers for the response (``x-ms-resource-unit``...), or raise Graph's 429."""
        cost = resource_units(ctx.request, route)
        if cost == 0:
            return {}
        headers = {"x-ms-resource-unit": str(cost)}
        key = (ctx.tenant.tenant_id, ctx.caller.client_id)
        now = ctx.clock.now()
        with self._lock:
            self.ledger.observe(key, now)
            if self.mode == "off":
                return headers
            charges = self._charges(ctx, route, cost, now)
            refused = [c for c in charges if not c.bucket.fits(c.amount)]
            for charge in charges:
                charge.bucket.charge(charge.amount)
            # The percentage header belongs to the RU and write budgets; a lane of one
            # request per second would report 1.0 on every call.
            usage = max(c.bucket.usage() for c in charges) if route.lane == "directory" else 0
            if refused:
                raise self._refusal(refused[0].limit, charges, key, now, headers)
        if usage > 0.8:
            headers["x-ms-throttle-limit-percentage"] = _percentage(usage)
        return headers

    def _charges(self, ctx: Context, route: Route, cost: int, now: float) -> list[_Charge]:
        tenant, app = ctx.tenant.tenant_id, ctx.caller.client_id
        if route.lane == "conditionalAccess":
            return [self._charge(CONDITIONAL_ACCESS, (tenant,), 1, now)]
        if route.lane == "reports":
            return [self._charge(REPORTS, (tenant, app), 1, now)]
        ru_limit = app_tenant_resource_units(ctx.tenant.size_class())
        charges = [
            self._charge(ru_limit, (tenant, app), cost, now),
            self._charge(APP_RESOURCE_UNITS, (app,), cost, now),
        ]
        if is_write(ctx.request):
            charges += [
                self._charge(APP_TENANT_WRITES, (tenant, app), 1, now),
                self._charge(TENANT_WRITES, (tenant,), 1, now),
                self._charge(APP_WRITES, (app,), 1, now),
            ]
        return charges

    def _charge(self, limit: Limit, owner: tuple[str, ...], amount: float,
                now: float) -> _Charge:
        key = (limit.name, *owner)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = Bucket(limit.capacity, limit.window, limit.capacity, now)
            self._buckets[key] = bucket
        elif bucket.capacity != limit.capacity:
            bucket.capacity = limit.capacity
            bucket.level = min(bucket.level, limit.capacity)
        bucket.refill(now)
        return _Charge(limit, bucket, amount)

    def _refusal(self, limit: Limit, charges: list[_Charge], key: tuple[str, str],
                 now: float, headers: dict[str, str]) -> GraphError:
        self.throttled[limit.name] = self.throttled.get(limit.name, 0) + 1
        refusal = dict(headers)
        if limit.retry_after:
            wait = max(c.bucket.seconds_until(c.amount) for c in charges)
            seconds = max(1, math.ceil(wait - EPSILON))
            refusal["Retry-After"] = str(seconds)
            self.ledger.promise(key, now, seconds)
        if limit.information is not None:
            tenant, app = key
            refusal["x-ms-throttle-scope"] = f"{limit.scope}/{limit.access}/{app}/{tenant}"
            refusal["x-ms-throttle-information"] = limit.information
        return GraphError(429, "TooManyRequests",
                          "Too many requests. Wait for the time Retry-After gives, then retry.",
                          headers=refusal)

    def reset(self) -> None:
        """Refill every budget (a test starting over on the same emulator)."""
        with self._lock:
            self._buckets.clear()


def check_mode(mode: str) -> str:
    """``real`` or ``off``; anything else is refused with a clear message."""
    if mode not in MODES:
        raise ValueError(f"throttle mode must be 'real' or 'off', not {mode!r}")
    return mode


def _percentage(usage: float) -> str:
    # Rounded up, so a value sent is always above the documented 0.8 threshold.
    return f"{min(1.8, math.ceil(usage * 10 - EPSILON) / 10):.1f}"
