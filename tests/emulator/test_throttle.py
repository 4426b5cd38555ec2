"""Throttling: budgets by tenant size, costs, refill on the clock, quotas, lanes, headers."""

from __future__ import annotations

import pytest

from graph_emulator.handlers import batch
from graph_emulator.protocol import GraphRequest
from graph_emulator.routing import Router
from graph_emulator.throttle import Throttle, resource_units
from tests.emulator._gates_support import echo, emulator, probe
from tests.support.inprocess import CLIENT_ID, TENANT_ID, InProcess


def admitted_until_refused(p: InProcess, url: str, method: str = "GET", limit: int = 5000) -> int:
    for count in range(limit):
        if p.call(method, url).status == 429:
            return count
    raise AssertionError(f"never throttled after {limit} requests")


def exhaust(p: InProcess, url: str) -> int:
    """Spend the budget; returns the Retry-After of the first 429."""
    admitted_until_refused(p, url)
    response = p.call("GET", url)
    assert response.status == 429
    return int(response.headers["Retry-After"])


@pytest.mark.parametrize(("users", "budget"), [(0, 3_500), (50, 5_000), (501, 8_000)])
def test_the_budget_per_10_seconds_follows_the_tenant_size(users: int, budget: int) -> None:
    p, _ = emulator(users=users)
    url = probe(p, 500)

    assert admitted_until_refused(p, url) == budget // 500


@pytest.mark.parametrize(("url", "cost"), [
    ("/users", 2),
    ("/users?$select=id", 1),
    ("/users?$top=5", 1),
    ("/users?$top=999", 2),
    ("/users?$select=id&$top=5", 1),
    ("/users?$expand=manager", 3),
    ("/groups/{id}/members", 3),
    ("/groups/{id}/members?$select=id&$top=999", 2),
    ("/organization", 1),
])
def test_documented_costs_and_modifiers(url: str, cost: int) -> None:
    p = InProcess()
    request = GraphRequest.from_url("GET", url.replace("{id}", "g1"), {}, b"", "https://x/v1.0")
    route, _ = p.emulator.router.match("GET", request.path)

    assert resource_units(request, route) == cost


@pytest.mark.parametrize(("select", "cost"), [("", 5), ("?$select=id", 2)])
def test_get_by_ids_costs_5_or_2_with_select(select: str, cost: int) -> None:
    p, _ = emulator(users=1)

    response = p.call("POST", "/directoryObjects/getByIds" + select,
                      {"ids": ["00000000-0000-4000-8000-000000000000"]})

    assert response.status == 200, response.body
    assert response.headers["x-ms-resource-unit"] == str(cost)


def test_responses_report_the_units_charged() -> None:
    p, _ = emulator()

    assert p.call("GET", "/users").headers["x-ms-resource-unit"] == "2"
    assert p.call("GET", "/users?$select=id").headers["x-ms-resource-unit"] == "1"


def test_the_budget_refills_with_clock_time() -> None:
    p, _ = emulator()
    url = probe(p, 500)
    admitted_until_refused(p, url)

    p.emulator.clock.advance(30)

    assert admitted_until_refused(p, url) == 7


def test_a_request_at_retry_after_succeeds() -> None:
    p, _ = emulator()
    url = probe(p, 500)
    retry_after = exhaust(p, url)

    p.emulator.clock.advance(retry_after)

    assert p.call("GET", url).status == 200


def test_a_request_before_retry_after_fails_and_pushes_recovery_out() -> None:
    p, _ = emulator()
    url = probe(p, 500)
    retry_after = exhaust(p, url)
    assert retry_after > 1

    p.emulator.clock.advance(retry_after - 1)
    early = p.call("GET", url)

    assert early.status == 429
    # The refused request was charged too: waiting the rest of the first delay is not enough.
    assert int(early.headers["Retry-After"]) > 1
    p.emulator.clock.advance(1)
    assert p.call("GET", url).status == 429


def test_a_refusal_names_the_limit_and_its_scope() -> None:
    p, _ = emulator()
    url = probe(p, 500)
    admitted_until_refused(p, url)

    refused = p.call("GET", url)

    assert refused.status == 429
    assert refused.body["error"]["code"] == "TooManyRequests"
    assert refused.headers["x-ms-throttle-information"] == "ResourceUnitLimitExceeded"
    assert refused.headers["x-ms-throttle-scope"] == (
        f"Tenant_Application/ReadWrite/{CLIENT_ID}/{TENANT_ID}")


def test_the_limit_percentage_appears_above_80_percent_of_the_budget() -> None:
    p, _ = emulator()
    url = probe(p, 500)
    seen = [p.call("GET", url).headers.get("x-ms-throttle-limit-percentage") for _ in range(7)]

    # 3,500 RU: after 5 calls 71 % is used, after 6 calls 86 %, after 7 calls 100 %.
    assert seen[:5] == [None] * 5
    assert seen[5:] == ["0.9", "1.0"]


def test_each_app_has_its_own_budget_in_a_tenant() -> None:
    p, _ = emulator()
    url = probe(p, 500)
    admitted_until_refused(p, url)

    p.auth.caller.client_id = "0b1c2d3e-0000-4000-8000-0000000000bb"

    assert p.call("GET", url).status == 200


def test_writes_are_limited_to_3000_per_150_seconds_per_app_and_tenant() -> None:
    p, _ = emulator()
    url = probe(p, 1, method="POST")

    assert admitted_until_refused(p, url, "POST") == 3_000
    refused = p.call("POST", url)
    assert refused.headers["x-ms-throttle-information"] == "WriteLimitExceeded"
    assert refused.headers["x-ms-throttle-scope"].startswith("Tenant_Application/Write/")
    p.emulator.clock.advance(int(refused.headers["Retry-After"]))
    assert p.call("POST", url).status == 200


def test_writes_are_limited_to_18000_per_5_minutes_per_tenant_across_apps() -> None:
    p, _ = emulator()
    url = probe(p, 1, method="POST")
    for app in range(6):
        p.auth.caller.client_id = f"0b1c2d3e-0000-4000-8000-00000000010{app}"
        assert {p.call("POST", url).status for _ in range(3_000)} == {200}

    p.auth.caller.client_id = "0b1c2d3e-0000-4000-8000-000000000200"
    refused = p.call("POST", url)

    assert refused.status == 429
    assert refused.headers["x-ms-throttle-scope"].startswith("Tenant/Write/")


def test_read_actions_sent_as_post_use_no_write_quota() -> None:
    p, _ = emulator()
    url = "/probe/directoryObjects/getByIds"
    p.emulator.router.add("POST", url, echo, ())
    for _ in range(3_001):
        p.emulator.clock.advance(0.01)
        assert p.call("POST", url).status == 200


def test_conditional_access_allows_one_request_per_second_per_tenant_without_retry_after(
) -> None:
    p, _ = emulator()
    url = "/identity/conditionalAccess/policies"
    assert p.call("GET", url).status == 200

    p.auth.caller.client_id = "0b1c2d3e-0000-4000-8000-0000000000bb"
    refused = p.call("GET", url)

    assert refused.status == 429
    assert "Retry-After" not in refused.headers
    p.emulator.clock.advance(2)
    assert p.call("GET", url).status == 200


def test_reports_allow_five_requests_per_10_seconds() -> None:
    p, _ = emulator()
    url = probe(p, 1, lane="reports")

    assert admitted_until_refused(p, url) == 5
    refused = p.call("GET", url)
    p.emulator.clock.advance(int(refused.headers["Retry-After"]))
    assert p.call("GET", url).status == 200


def test_throttle_off_never_refuses_but_still_reports_units() -> None:
    p, _ = emulator(throttle="off")
    url = probe(p, 500)

    statuses = {p.call("GET", url).status for _ in range(50)}

    assert statuses == {200}
    assert p.call("GET", url).headers["x-ms-resource-unit"] == "500"


def test_requests_before_retry_after_are_counted_as_too_early() -> None:
    p, gates = emulator()
    url = probe(p, 500)
    exhaust(p, url)

    p.emulator.clock.advance(1)
    p.call("GET", url)
    assert gates.counters()["retried_too_early"] == 1

    p.emulator.clock.advance(60)
    p.call("GET", url)
    assert gates.counters()["retried_too_early"] == 1


def test_requests_in_flight_when_throttled_are_not_counted_as_too_early() -> None:
    p, gates = emulator()
    url = probe(p, 500)
    exhaust(p, url)

    p.call("GET", url)

    assert gates.counters()["retried_too_early"] == 0


def test_throttled_requests_are_counted_by_limit() -> None:
    p, gates = emulator()
    url = probe(p, 500)
    exhaust(p, url)

    assert gates.counters()["throttled"] == {"appTenantResourceUnits": 2}


def test_the_mode_and_the_control_settings_are_checked() -> None:
    _, gates = emulator()
    with pytest.raises(ValueError, match="'real' or 'off'"):
        Throttle("fast")
    with pytest.raises(ValueError, match="between 0 and 1"):
        gates.configure({"fault_rate": 2})

    gates.configure({"throttle": "off", "fault_rate": 0.25, "seed": 9})

    assert gates.settings()["throttle"] == "off"
    assert gates.settings()["fault_rate"] == 0.25
    assert gates.settings()["seed"] == 9


def test_batch_route_costs_nothing_itself() -> None:
    router = Router()
    batch.register(router)
    route, _ = router.match("POST", "/$batch")
    request = GraphRequest.from_url("POST", "/$batch", {}, b"{}", "https://x/v1.0")

    assert resource_units(request, route) == 0


def test_the_conditional_access_lane_sends_no_limit_percentage() -> None:
    p, _ = emulator()

    response = p.call("GET", "/identity/conditionalAccess/policies")

    assert response.status == 200
    assert "x-ms-throttle-limit-percentage" not in response.headers
