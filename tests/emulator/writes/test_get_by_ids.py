"""POST /directoryObjects/getByIds: ids, types, limits, cost."""

from __future__ import annotations

from tests.emulator.writes.support import create_group, create_user, emulator


def test_returns_live_objects_with_their_type() -> None:
    p = emulator()
    user = create_user(p, "adele")
    group = create_group(p, "g")
    gone = create_user(p, "bianca")
    p.call("DELETE", f"/users/{gone}")
    response = p.call("POST", "/directoryObjects/getByIds",
                      {"ids": [user, group, gone, "00000000-0000-4000-8000-000000000999"]})
    assert response.status == 200
    assert response.body["@odata.context"].endswith("$metadata#directoryObjects")
    assert [(o["@odata.type"], o["id"]) for o in response.body["value"]] == [
        ("#microsoft.graph.user", user), ("#microsoft.graph.group", group)]


def test_types_filter_and_select() -> None:
    p = emulator()
    user = create_user(p, "adele")
    group = create_group(p, "g")
    response = p.call("POST", "/directoryObjects/getByIds?$select=displayName",
                      {"ids": [user, group], "types": ["group"]})
    assert response.body["value"] == [
        {"@odata.type": "#microsoft.graph.group", "displayName": "g", "id": group}]
    assert p.call("POST", "/directoryObjects/getByIds",
                  {"ids": [user], "types": ["planet"]}).status == 400


def test_at_most_a_thousand_ids() -> None:
    p = emulator()
    ids = [f"00000000-0000-4000-8000-{n:012d}" for n in range(1001)]
    assert p.call("POST", "/directoryObjects/getByIds", {"ids": ids}).status == 400
    assert p.call("POST", "/directoryObjects/getByIds", {"ids": ids[:1000]}).status == 200


def test_costs_five_resource_units() -> None:
    p = emulator()
    route, _ = p.emulator.router.match("POST", "/directoryObjects/getByIds")
    assert route.resource_units == 5
