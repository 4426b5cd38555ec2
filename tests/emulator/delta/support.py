"""Helpers for delta tests: seeding, following links, merging rounds as a client would."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graph_emulator.handlers.delta import set_paging
from graph_emulator.protocol import GraphResponse
from tests.support.inprocess import InProcess

BASE = "https://graph.example/v1.0"


def uid(number: int) -> str:
    """A GUID-shaped id, ordered by ``number``."""
    return f"00000000-0000-4000-8000-{number:012d}"


def gid(number: int) -> str:
    return f"10000000-0000-4000-8000-{number:012d}"


def emulator(*, page_size: int = 200, member_budget: int = 1000) -> InProcess:
    p = InProcess()
    set_paging(p.emulator, page_size=page_size, member_budget=member_budget)
    return p


def add_user(p: InProcess, number: int, **extra: Any) -> str:
    object_id = uid(number)
    p.loader.add("users", {"id": object_id, "displayName": f"User {number}",
                           "userPrincipalName": f"user{number}@contoso.example",
                           "jobTitle": None, "department": "Sales", **extra})
    return object_id


def add_group(p: InProcess, number: int, members: Sequence[str] = ()) -> str:
    object_id = gid(number)
    p.loader.add("groups", {"id": object_id, "displayName": f"Group {number}",
                            "description": None, "mailNickname": f"group{number}",
                            "securityEnabled": True, "groupTypes": []})
    for member in members:
        p.loader.link("members", object_id, member)
    return object_id


def relative(link: str) -> str:
    assert link.startswith(BASE), link
    return link[len(BASE):]


def call(p: InProcess, url: str, headers: dict[str, str] | None = None) -> GraphResponse:
    return p.call("GET", relative(url) if url.startswith("http") else url, headers=headers)


def round_pages(p: InProcess, url: str,
                headers: dict[str, str] | None = None) -> tuple[list[dict[str, Any]], str]:
    """Every page of one round from ``url``: the pages' bodies and the deltaLink."""
    pages: list[dict[str, Any]] = []
    while True:
        response = call(p, url, headers)
        assert response.status == 200, response.body
        pages.append(response.body)
        if "@odata.nextLink" in response.body:
            url = response.body["@odata.nextLink"]
            continue
        return pages, response.body["@odata.deltaLink"]


def items(pages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [item for page in pages for item in page["value"]]


def merge(state: dict[str, dict[str, Any]], pages: list[dict[str, Any]]) -> None:
    """Apply a round to a client-side copy: idempotent, order-free, as graph-facts asks."""
    for item in items(pages):
        object_id = item["id"]
        if "@removed" in item:
            state.pop(object_id, None)
            continue
        current = state.setdefault(object_id, {"links": {}})
        for name, value in item.items():
            if name.endswith("@delta"):
                links = current["links"].setdefault(name[:-len("@delta")], set())
                for ref in value:
                    (links.discard if "@removed" in ref else links.add)(ref["id"])
            else:
                current[name] = value
        current["links"] = {name: ids for name, ids in current["links"].items() if ids}
