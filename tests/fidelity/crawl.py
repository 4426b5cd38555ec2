"""Walk the emulator's GET routes with ids of real objects, collecting every response."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from graph_emulator.model.kinds import KINDS
from tests.fidelity.oracle.response_types import ResponseType, response_type

MAX_PAGES = 20
IDS_PER_KIND = 3
SKIPPED_SEGMENTS = ("$count",)
"""``$count`` answers text/plain, not JSON; there is no schema type to check it against."""
DUPLICATE_CALLS = ("delta()", "microsoft.graph.delta")
"""Alternative spellings of ``delta`` that the emulator routes to the same handler."""


@dataclass(frozen=True)
class Fetched:
    """One JSON response of the crawl, with the schema type its body should have."""

    url: str
    expected: ResponseType
    status: int
    body: Any


def kind_for(template: str) -> str | None:
    """The kind whose ``{id}`` starts ``template`` (``/users/{id}/memberOf`` -> users).

    ``deletedItems`` for the recycle bin, whose ids the caller supplies; users for
    ``/directoryObjects/{id}``, which serves a directory object of any type.
    """
    if template.startswith("/directory/deletedItems/{id}"):
        return "deletedItems"
    if template.startswith("/directoryObjects/{id}"):
        return "users"
    for name, kind in KINDS.items():
        if "{id}" not in kind.path and template.startswith(kind.path + "/{id}"):
            return name
    return None


def sample_ids(client: httpx.Client) -> dict[str, list[str]]:
    """A few ids of every collection kind, as the emulator lists them."""
    ids: dict[str, list[str]] = {}
    for name, kind in KINDS.items():
        if kind.singleton or "{id}" in kind.path:
            continue
        response = client.get(kind.path.lstrip("/"), params={"$top": "50"})
        response.raise_for_status()
        values = [item["id"] for item in response.json()["value"]]
        ids[name] = values[:: max(1, len(values) // IDS_PER_KIND)][:IDS_PER_KIND]
    return ids


def crawl(client: httpx.Client, templates: list[str],
          ids: dict[str, list[str]]) -> Iterator[Fetched]:
    """Every page of every GET route, ``{id}`` replaced by sample ids of its kind."""
    for template in templates:
        if any(s in template for s in SKIPPED_SEGMENTS + DUPLICATE_CALLS):
            continue
        expected = response_type(template.split("?")[0].replace("{id}", "*"))
        if expected is None:
            raise AssertionError(f"no response type known for {template}")
        kind = kind_for(template)
        if kind is None and "{id}" in template:
            raise AssertionError(f"no ids known for {template}")
        for object_id in ids[kind] if kind else [None]:
            path = template.replace("{id}", object_id) if object_id else template
            yield from _pages(client, path.lstrip("/"), expected)


def _pages(client: httpx.Client, url: str, expected: ResponseType) -> Iterator[Fetched]:
    for _ in range(MAX_PAGES):
        response = client.get(url)
        body = response.json() if response.content else None
        yield Fetched(url, expected, response.status_code, body)
        next_url = body.get("@odata.nextLink") if isinstance(body, dict) else None
        if not next_url or not expected.collection:
            return
        url = next_url
    raise AssertionError(f"{url}: more than {MAX_PAGES} pages")
