"""Delta change rounds (changes, membership deltas, removals) are schema-valid."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.fidelity.oracle.schema import load_schema
from tests.support.live_emulator import LiveEmulator


def _round(client: httpx.Client, url: str) -> tuple[list[dict[str, Any]], str]:
    """All pages of one delta round: the bodies, and the deltaLink that ends it."""
    bodies = []
    while True:
        response = client.get(url)
        assert response.status_code == 200, response.text
        body = response.json()
        bodies.append(body)
        if "@odata.deltaLink" in body:
            return bodies, body["@odata.deltaLink"]
        url = body["@odata.nextLink"]


def _new_user(client: httpx.Client, domain: str) -> str:
    nickname = f"fidelity.delta.{uuid.uuid4().hex[:8]}"
    response = client.post("users", json={
        "accountEnabled": True, "displayName": "Fidelity Delta", "mailNickname": nickname,
        "userPrincipalName": f"{nickname}@{domain}",
        "passwordProfile": {"password": "Xy9!fidelity-delta"}})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_change_rounds_match_the_schema(emulator: LiveEmulator) -> None:
    schema = load_schema()
    with emulator.http() as client:
        domain = next(d["id"] for d in client.get("domains").json()["value"] if d["isInitial"])
        group = client.post("groups", json={
            "displayName": "Fidelity Delta", "mailEnabled": False, "securityEnabled": True,
            "mailNickname": f"fidelity-delta-{uuid.uuid4().hex[:8]}"}).json()["id"]
        _, users_link = _round(client, "users/delta")
        _, groups_link = _round(client, "groups/delta")
        kept, removed = _new_user(client, domain), _new_user(client, domain)
        for user in (kept, removed):
            client.post(f"groups/{group}/members/$ref", json={
                "@odata.id": f"{emulator.graph_url}/directoryObjects/{user}"}).raise_for_status()
        client.patch(f"users/{kept}", json={"jobTitle": "Delta Checker"}).raise_for_status()
        client.delete(f"users/{removed}").raise_for_status()
        client.delete(f"directory/deletedItems/{removed}").raise_for_status()
        users, _ = _round(client, users_link)
        groups, _ = _round(client, groups_link)
        client.delete(f"users/{kept}").raise_for_status()
        client.delete(f"directory/deletedItems/{kept}").raise_for_status()
        client.delete(f"groups/{group}").raise_for_status()
    problems = [p for body in users for p in schema.collection_problems("user", body)]
    problems += [p for body in groups for p in schema.collection_problems("group", body)]
    assert problems == []
    changed = {item["id"]: item for body in users for item in body["value"]}
    assert changed[removed]["@removed"] == {"reason": "deleted"}
    assert changed[kept]["jobTitle"] == "Delta Checker"
    members = [m for body in groups for g in body["value"] if g["id"] == group
               for m in g.get("members@delta", [])]
    assert {"@odata.type": "#microsoft.graph.user", "id": kept} in members
