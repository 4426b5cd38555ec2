"""Every object in every emulator response is valid against Microsoft's v1.0 schema."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fidelity.crawl import Fetched, crawl, sample_ids
from tests.fidelity.oracle.schema import Schema, load_schema
from tests.fidelity.test_routes import served_routes
from tests.support.live_emulator import LiveEmulator

EXPANSIONS = {
    "users": ["manager", "memberOf", "directReports"],
    "groups": ["members", "owners"],
    "devices": ["registeredOwners"],
    "servicePrincipals": ["owners"],
}


def _problems(schema: Schema, fetched: Fetched) -> list[str]:
    body, expected = fetched.body, fetched.expected
    if fetched.status == 404 and fetched.url.endswith("/manager"):
        return []  # a user without a manager answers 404, as Graph does
    if fetched.status != 200:
        return [f"status {fetched.status}: {body}"]
    if expected.collection:
        return schema.collection_problems(expected.type, body)
    found = schema.problems(expected.type, body)
    return [p for p in found if not p.startswith(f"{_short(expected.type)}.@odata.context")]


def _short(type_name: str) -> str:
    return type_name.rsplit(".", 1)[-1]


@pytest.fixture(scope="module")
def deleted_objects(emulator: LiveEmulator) -> Iterator[list[str]]:
    """A user and a Microsoft 365 group created and deleted here, so the recycle bin has
    content (security groups are deleted permanently, as in Graph); purged afterwards so
    the shared tenant is left as it was."""
    nickname = f"fidelity.deleted.{uuid.uuid4().hex[:8]}"
    with emulator.http() as client:
        user = client.post("users", json={
            "accountEnabled": True, "displayName": "Fidelity Deleted",
            "mailNickname": nickname, "userPrincipalName": f"{nickname}@{_domain(client)}",
            "passwordProfile": {"password": "Xy9!fidelity-check",
                                "forceChangePasswordNextSignIn": True}})
        group = client.post("groups", json={
            "displayName": "Fidelity Deleted", "mailEnabled": True,
            "mailNickname": nickname.replace(".", "-"), "securityEnabled": False,
            "groupTypes": ["Unified"]})
        ids = [user.raise_for_status().json()["id"], group.raise_for_status().json()["id"]]
        client.delete(f"users/{ids[0]}").raise_for_status()
        client.delete(f"groups/{ids[1]}").raise_for_status()
        yield ids
        for object_id in ids:
            client.delete(f"directory/deletedItems/{object_id}").raise_for_status()


def _domain(client: httpx.Client) -> str:
    domains = client.get("domains").json()["value"]
    return str(next(d["id"] for d in domains if d.get("isInitial")))


def test_every_crawled_response_matches_the_schema(emulator: LiveEmulator,
                                                   deleted_objects: list[str]) -> None:
    schema = load_schema()
    templates = sorted({path for method, path in served_routes(emulator) if method == "GET"})
    objects_before, properties_before = schema.objects_checked, schema.properties_checked
    problems: list[str] = []
    responses: Counter[str] = Counter()
    urls: set[str] = set()
    with emulator.http() as client:
        ids = sample_ids(client)
        ids["deletedItems"] = deleted_objects
        for fetched in _all_responses(client, templates, ids):
            responses[fetched.expected.type] += 1
            urls.add(fetched.url)
            problems.extend(f"{fetched.url}: {p}" for p in _problems(schema, fetched))
    objects = schema.objects_checked - objects_before
    properties = schema.properties_checked - properties_before
    print(f"schema: {sum(responses.values())} responses, {objects} objects, "
          f"{properties} properties checked; by type {dict(responses)}")
    assert problems == []
    assert objects > 500
    for covered in ("users/delta", "groups/delta", "directory/deletedItems/microsoft.graph.user",
                    f"directory/deletedItems/{deleted_objects[0]}", "/members", "/owners",
                    "/manager", "/appRoleAssignedTo", "/scopedRoleMembers", "$expand=members"):
        assert any(covered in url for url in urls), covered


def _all_responses(client: httpx.Client, templates: list[str],
                   ids: dict[str, list[str]]) -> Any:
    yield from crawl(client, templates, ids)
    for kind, navigations in EXPANSIONS.items():
        path = "/" + ("directory/administrativeUnits" if kind == "administrativeUnits" else kind)
        for navigation in navigations:
            yield from crawl(client, [f"{path}?$expand={navigation}"], {})
            yield from crawl(client, [f"{path}/{{id}}?$expand={navigation}"], ids)
