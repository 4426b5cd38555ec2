"""Every route the emulator serves is a route of Microsoft Graph v1.0."""

from __future__ import annotations

from collections import Counter

import httpx

from tests.fidelity.oracle.routes import route_basis
from tests.support.live_emulator import LiveEmulator

UNDOCUMENTED: dict[tuple[str, str], str] = {
}
"""Known departures, each with its reason; any other undocumented route fails the test."""


def served_routes(emulator: LiveEmulator) -> list[tuple[str, str]]:
    """(method, path below /v1.0) for every Graph route of the emulator's control listing."""
    with httpx.Client(verify=emulator.verify(), timeout=30) as client:
        response = client.get(emulator.control_url + "/routes")
    response.raise_for_status()
    routes: list[tuple[str, str]] = []
    for route in response.json():
        path = route["path"]
        assert path.startswith("/v1.0/"), path
        routes.extend((method, path.removeprefix("/v1.0")) for method in route["methods"])
    return routes


def test_every_served_route_is_a_documented_graph_route(emulator: LiveEmulator) -> None:
    routes = served_routes(emulator)
    bases = {route: route_basis(*route) for route in routes}
    undocumented = {route for route, basis in bases.items() if basis is None}
    tally = Counter((basis or "none").split(" bound to ")[0].split(" ")[0] for basis in
                    bases.values())
    print(f"routes: {len(routes)} method+path pairs; evidence: {dict(tally)}")
    assert len(routes) > 100
    assert undocumented <= set(UNDOCUMENTED), sorted(undocumented - set(UNDOCUMENTED))
