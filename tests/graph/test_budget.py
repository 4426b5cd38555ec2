"""The throttle budget: pacing by resource units, calibration, slow-down and pauses."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from entra_backup.graph.budget import TenantSize, ThrottleBudget
from entra_backup.graph.costs import Lane, estimate
from tests.graph.support import ManualClock

USERS = "https://graph.microsoft.com/v1.0/users"
CA = "https://graph.microsoft.com/v1.0/identity/conditionalAccess/policies"


async def spend(budget: ThrottleBudget, method: str, url: str, times: int,
                headers: dict[str, str] | None = None) -> None:
    for _ in range(times):
        async with budget.admit(estimate(method, url)) as admission:
            budget.observe(admission, 200, headers or {})


@pytest.mark.parametrize(("users", "size"), [
    (10, TenantSize.SMALL), (49, TenantSize.SMALL), (50, TenantSize.MEDIUM),
    (500, TenantSize.MEDIUM), (501, TenantSize.LARGE),
])
def test_tenant_size_follows_the_documented_user_counts(users: int, size: TenantSize) -> None:
    assert TenantSize.for_users(users) is size


async def test_a_full_bucket_is_spent_without_waiting_then_paced_at_the_refill_rate() -> None:
    clock = ManualClock()
    budget = ThrottleBudget(TenantSize.SMALL, clock=clock)
    await spend(budget, "GET", USERS, 1750)  # 2 RU each: exactly the 3,500 RU bucket
    assert clock.sleeps == []
    await spend(budget, "GET", USERS, 350)  # another 700 RU at 350 RU/s
    assert sum(clock.sleeps) == pytest.approx(2.0)
    assert budget.counters.resource_units == 4200


async def test_a_larger_tenant_gets_a_larger_budget() -> None:
    small, large = ManualClock(), ManualClock()
    await spend(ThrottleBudget(TenantSize.SMALL, clock=small), "GET", USERS, 4000)
    await spend(ThrottleBudget(TenantSize.LARGE, clock=large), "GET", USERS, 4000)
    assert sum(small.sleeps) == pytest.approx((8000 - 3500) / 350)
    assert sum(large.sleeps) == 0


async def test_the_measured_cost_replaces_the_estimate() -> None:
    clock = ManualClock()
    budget = ThrottleBudget(TenantSize.SMALL, clock=clock)
    await spend(budget, "GET", USERS, 1, {"x-ms-resource-unit": "5"})
    assert budget.charge_of(estimate("GET", USERS)) == 5
    assert budget.units.tokens == pytest.approx(3500 - 5)
    assert budget.counters.resource_units == 5


async def test_the_limit_percentage_header_slows_the_refill_and_clean_answers_restore_it() -> None:
    budget = ThrottleBudget(TenantSize.MEDIUM, clock=ManualClock())
    await spend(budget, "GET", USERS, 1, {"x-ms-throttle-limit-percentage": "1.2"})
    assert budget.units.rate_factor == pytest.approx(0.6)
    await spend(budget, "GET", USERS, 1, {"x-ms-throttle-limit-percentage": "0.9"})
    assert budget.units.rate_factor == pytest.approx(0.6)
    await spend(budget, "GET", USERS, 40)
    assert budget.units.rate_factor == 1.0


async def test_a_read_pause_holds_reads_but_not_writes() -> None:
    clock = ManualClock()
    budget = ThrottleBudget(clock=clock)
    budget.pause(Lane.READ, 30, "Tenant_Application/Read/app/tenant")
    await spend(budget, "POST", USERS, 1)
    assert clock.sleeps == [30]  # a write costs RU too, so it waits for the read scope
    clock.sleeps.clear()
    budget.pause(Lane.WRITE, 30, "Tenant_Application/Write/app/tenant")
    await spend(budget, "GET", USERS, 1)
    assert clock.sleeps == []
    await spend(budget, "PATCH", USERS, 1)
    assert clock.sleeps == [pytest.approx(30)]


async def test_writes_are_paced_to_3000_per_150_seconds() -> None:
    clock = ManualClock()
    budget = ThrottleBudget(TenantSize.LARGE, clock=clock)
    await spend(budget, "PATCH", USERS, 3000)
    assert clock.sleeps == []
    await spend(budget, "PATCH", USERS, 100)
    assert sum(clock.sleeps) == pytest.approx(100 / 20)


async def test_conditional_access_calls_are_serial_and_over_one_second_apart() -> None:
    clock = ManualClock()
    budget = ThrottleBudget(clock=clock)
    starts: list[float] = []
    inside = 0

    async def call() -> None:
        nonlocal inside
        async with budget.admit(estimate("GET", CA)):
            inside += 1
            assert inside == 1
            starts.append(clock.now())
            await asyncio.sleep(0)
            inside -= 1

    await asyncio.gather(*(call() for _ in range(4)))
    # 1 request/s at Graph, plus a margin for jitter between this client and Graph.
    assert [round(b - a, 6) for a, b in itertools.pairwise(starts)] == [1.1] * 3
    assert budget.units.tokens == budget.units.capacity
