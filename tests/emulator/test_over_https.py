"""The emulator end to end: HTTPS, MSAL tokens, paging, permissions, the control endpoint."""

from __future__ import annotations

import httpx
import pytest

from tests.support.live_emulator import LiveEmulator, acquire_token

USERS = 120


def test_users_page_through_every_user_exactly_once(emulator: LiveEmulator) -> None:
    seen: list[str] = []
    pages = 0
    with emulator.http() as client:
        url: str | None = "users?$top=50&$select=id,displayName,userPrincipalName"
        while url:
            response = client.get(url)
            assert response.status_code == 200, response.text
            body = response.json()
            seen += [user["id"] for user in body["value"]]
            assert all(set(user) == {"id", "displayName", "userPrincipalName"}
                       for user in body["value"])
            url = body.get("@odata.nextLink")
            pages += 1
    assert pages == 3
    assert len(seen) == len(set(seen)) == USERS


def test_count_needs_consistency_level_eventual(emulator: LiveEmulator) -> None:
    with emulator.http() as client:
        refused = client.get("users", params={"$count": "true"})
        counted = client.get("users", params={"$count": "true", "$top": "5"},
                             headers={"ConsistencyLevel": "eventual"})
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "Request_BadRequest"
    assert counted.status_code == 200
    assert counted.json()["@odata.count"] == USERS
    assert len(counted.json()["value"]) == 5


def test_unknown_property_in_select_is_refused_like_graph(emulator: LiveEmulator) -> None:
    with emulator.http() as client:
        response = client.get("users", params={"$select": "displayName,favouriteColour"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert "favouriteColour" in error["message"]
    assert set(error["innerError"]) == {"date", "request-id", "client-request-id"}


def test_a_call_without_a_token_gets_401(emulator: LiveEmulator) -> None:
    with httpx.Client(verify=emulator.verify()) as client:
        response = client.get(emulator.graph_url + "/users")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert response.json()["error"]["message"] == "Access token is empty."


def test_an_app_without_the_permission_gets_403(emulator: LiveEmulator) -> None:
    app = emulator.control("POST", "/apps", {"permissions": ["Group.Read.All"]})
    token = acquire_token(emulator.authority, app["client_id"], app["client_secret"],
                          emulator.ca_bundle)["access_token"]
    with emulator.http(token) as client:
        users = client.get("users")
        groups = client.get("groups")
    assert users.status_code == 403
    assert users.json()["error"]["code"] == "Authorization_RequestDenied"
    assert groups.status_code == 200


def test_a_token_expires_on_the_emulator_clock(tmp_path_factory: pytest.TempPathFactory) -> None:
    live = LiveEmulator.start(tmp_path_factory.mktemp("expiry"), users=5, seed=3,
                              throttle="off")
    try:
        with live.http() as client:
            assert client.get("organization").status_code == 200
            live.control("POST", "/clock/advance", {"seconds": 3600})
            expired = client.get("organization")
        assert expired.status_code == 401
        assert "expired" in expired.json()["error"]["message"]
    finally:
        live.stop()


def test_control_endpoint_lists_routes_and_refuses_bad_input(emulator: LiveEmulator) -> None:
    routes = emulator.control("GET", "/routes")
    paths = {route["path"] for route in routes}
    assert {"/v1.0/users", "/v1.0/groups/{id}/members", "/v1.0/users/delta"} <= paths
    with httpx.Client(verify=emulator.verify()) as client:
        bad = client.post(emulator.control_url + "/clock/advance", json={"seconds": -5})
        wrong_secret = client.get(emulator.control_url.rsplit("/", 1)[0] + "/nope/routes")
    assert bad.status_code == 400
    assert "seconds" in bad.json()["error"]
    assert wrong_secret.status_code == 404


def test_request_ids_and_client_request_ids_are_echoed(emulator: LiveEmulator) -> None:
    with emulator.http() as client:
        response = client.get("organization", headers={"client-request-id": "abc-123"})
    assert response.headers["client-request-id"] == "abc-123"
    assert len(response.headers["request-id"]) == 36


def test_settings_are_checked_before_any_is_applied(emulator: LiveEmulator) -> None:
    before = emulator.control("GET", "/settings")
    with httpx.Client(verify=emulator.verify()) as client:
        typo = client.post(emulator.control_url + "/settings", json={"fault-rate": 0.5})
        out_of_range = client.post(emulator.control_url + "/settings",
                                   json={"latency_ms": 5, "fault_rate": 7})
    assert typo.status_code == 400
    assert "fault-rate" in typo.json()["error"]
    assert out_of_range.status_code == 400
    assert emulator.control("GET", "/settings") == before


def test_replication_lag_delays_links_to_new_objects(emulator: LiveEmulator) -> None:
    emulator.control("POST", "/state/checkpoint", {"name": "lag"})
    emulator.control("POST", "/settings", {"replication_lag_seconds": 30})
    try:
        with emulator.http() as client:
            group = client.post("groups", json={
                "displayName": "Lagging", "mailEnabled": False, "mailNickname": "lagging",
                "securityEnabled": True}).json()
            user_id = client.get("users?$top=1").json()["value"][0]["id"]
            ref = {"@odata.id": f"{emulator.graph_url}/directoryObjects/{user_id}"}
            early = client.post(f"groups/{group['id']}/members/$ref", json=ref)
            emulator.control("POST", "/clock/advance", {"seconds": 31})
            later = client.post(f"groups/{group['id']}/members/$ref", json=ref)
        assert early.status_code == 400
        assert later.status_code == 204
    finally:
        emulator.control("POST", "/settings", {"replication_lag_seconds": 0})
        emulator.control("POST", "/state/rollback", {"name": "lag"})


def test_transitive_members_follow_nested_groups(emulator: LiveEmulator) -> None:
    emulator.control("POST", "/state/checkpoint", {"name": "nested"})
    try:
        with emulator.http() as client:
            users = [u["id"] for u in client.get("users?$top=3").json()["value"]]
            outer, inner = (client.post("groups", json={
                "displayName": name, "mailEnabled": False, "mailNickname": name,
                "securityEnabled": True}).json()["id"] for name in ("outer", "inner"))

            def add(group: str, member: str) -> None:
                ref = {"@odata.id": f"{emulator.graph_url}/directoryObjects/{member}"}
                assert client.post(f"groups/{group}/members/$ref", json=ref).status_code == 204

            add(outer, users[0])
            add(outer, inner)
            add(inner, users[1])
            add(inner, users[2])
            direct = {m["id"] for m in client.get(f"groups/{outer}/members").json()["value"]}
            nested = {m["id"] for m in
                      client.get(f"groups/{outer}/transitiveMembers").json()["value"]}
            member_of = {g["id"] for g in
                         client.get(f"users/{users[2]}/transitiveMemberOf").json()["value"]}
        assert direct == {users[0], inner}
        assert nested == {users[0], inner, users[1], users[2]}
        assert {outer, inner} <= member_of
    finally:
        emulator.control("POST", "/state/rollback", {"name": "nested"})


def test_unknown_segment_is_named_in_the_error(emulator: LiveEmulator) -> None:
    with emulator.http() as client:
        group = client.get("groups?$top=1").json()["value"][0]["id"]
        response = client.get(f"groups/{group}/nonsense")
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Resource not found for the segment 'nonsense'."


def test_state_saved_to_a_file_comes_back_after_changes(
        emulator: LiveEmulator, tmp_path_factory: pytest.TempPathFactory) -> None:
    target = tmp_path_factory.mktemp("state") / "tenant.state"
    emulator.control("POST", "/state/checkpoint", {"name": "file"})
    try:
        assert emulator.control("POST", "/state/save", {"path": str(target)}) == {
            "saved": str(target)}
        with emulator.http() as client:
            users = client.get("users?$top=50&$select=id,onPremisesSyncEnabled").json()["value"]
            victim = next(u["id"] for u in users if not u["onPremisesSyncEnabled"])
            assert client.delete(f"users/{victim}").status_code == 204
            assert client.get(f"users/{victim}").status_code == 404
            emulator.control("POST", "/state/load", {"path": str(target)})
            assert client.get(f"users/{victim}").status_code == 200
        with httpx.Client(verify=emulator.verify()) as client:
            missing = client.post(emulator.control_url + "/state/load",
                                  json={"path": str(target) + ".absent"})
        assert missing.status_code == 400
        assert "no saved state" in missing.json()["error"]
    finally:
        emulator.control("POST", "/state/rollback", {"name": "file"})


def test_request_log_and_resource_units_are_reported(emulator: LiveEmulator) -> None:
    since = emulator.control("GET", "/clock")
    with emulator.http() as client:
        client.get("users?$top=5&$select=id")
    log = emulator.control("GET", "/log")
    usage = emulator.control("GET", "/usage")
    assert any(r["path"] == "/users" and r["status"] == 200 and r["resource_units"] == 1
               for r in log), since
    ours = [u for u in usage if u["client_id"] == emulator.client_id]
    assert ours and ours[0]["resource_units"] > 0


def test_sign_in_activity_caps_the_page_at_500(emulator: LiveEmulator) -> None:
    with emulator.http() as client:
        refused = client.get("users?$select=id,signInActivity&$top=999")
        allowed = client.get("users?$select=id,signInActivity&$top=500")
        plain = client.get("users?$select=id&$top=999")
    assert refused.status_code == 400
    assert "between 1 and 500" in refused.json()["error"]["message"]
    assert allowed.status_code == 200
    assert plain.status_code == 200


def test_reset_regenerates_the_initial_tenant(tmp_path_factory: pytest.TempPathFactory) -> None:
    live = LiveEmulator.start(tmp_path_factory.mktemp("reset"), users=30, seed=4,
                              throttle="off")
    try:
        with live.http() as client:
            url = "users?$select=id,displayName,onPremisesSyncEnabled&$top=999"
            before = client.get(url).json()["value"]
            cloud_only = next(u["id"] for u in before if not u["onPremisesSyncEnabled"])
            assert client.patch(f"users/{cloud_only}",
                                json={"displayName": "Changed"}).status_code == 204
            assert client.get(url).json()["value"] != before
            live.control("POST", "/state/reset")
            after = client.get(url).json()["value"]
        assert after == before
    finally:
        live.stop()


def test_a_control_call_missing_a_field_says_which(emulator: LiveEmulator) -> None:
    with httpx.Client(verify=emulator.verify()) as client:
        response = client.post(emulator.control_url + "/state/save", json={})
    assert response.status_code == 400
    assert response.json() == {"error": "missing field 'path'"}
