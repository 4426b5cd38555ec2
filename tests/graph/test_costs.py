"""The documented resource-unit costs (learn.microsoft.com/graph/throttling-limits)."""

from __future__ import annotations

import pytest

from entra_backup.graph.costs import Lane, estimate, graph_path

BASE = "https://graph.microsoft.com/v1.0"
GROUP = "5a1b2c3d-0000-4000-8000-000000000001"


@pytest.mark.parametrize(("method", "url", "units"), [
    ("GET", f"{BASE}/users", 2),
    ("GET", f"{BASE}/users?$select=id,displayName&$top=999", 1),
    ("GET", f"{BASE}/users?$top=10", 1),
    ("GET", f"{BASE}/users?$expand=manager", 3),
    ("GET", f"{BASE}/groups/{GROUP}/members", 3),
    ("GET", f"{BASE}/groups/{GROUP}/members?$select=id&$top=999", 2),
    ("GET", f"{BASE}/groups/{GROUP}/transitiveMembers", 5),
    ("GET", f"{BASE}/subscribedSkus", 3),
    ("GET", f"{BASE}/groups", 1),
    ("GET", f"{BASE}/groups?$select=id", 1),
    ("GET", f"{BASE}/users/alice@contoso.com/memberOf", 2),
    ("POST", f"{BASE}/directoryObjects/getByIds", 5),
    ("POST", f"{BASE}/directoryObjects/getByIds?$select=id", 2),
])
def test_reads_cost_the_documented_units(method: str, url: str, units: int) -> None:
    cost = estimate(method, url)
    assert cost.lane is Lane.READ
    assert cost.resource_units == units
    assert cost.writes == 0


@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE"])
def test_writes_cost_one_unit_and_one_write(method: str) -> None:
    cost = estimate(method, f"{BASE}/groups/{GROUP}")
    assert (cost.lane, cost.resource_units, cost.writes) == (Lane.WRITE, 1, 1)


@pytest.mark.parametrize("path", [
    "identity/conditionalAccess/policies",
    "identity/conditionalAccess/namedLocations/" + GROUP,
    "identityProtection/riskyUsers",
])
def test_conditional_access_goes_through_the_serial_lane(path: str) -> None:
    assert estimate("GET", f"{BASE}/{path}").lane is Lane.SERIAL
    assert estimate("POST", f"{BASE}/{path}").lane is Lane.SERIAL


def test_audit_logs_go_through_the_reports_lane() -> None:
    assert estimate("GET", f"{BASE}/auditLogs/directoryAudits").lane is Lane.REPORTS


def test_paths_lose_host_version_and_ids() -> None:
    assert graph_path(f"{BASE}/groups/{GROUP}/members?$top=5") == "groups/{id}/members"
    assert graph_path("/v1.0/users/delta") == "users/delta"
