"""Run Microsoft's documentation example requests against the emulator.

An example is covered when its method and path pattern (``*`` for ids) name a route the
emulator serves. Its ``*`` segments are replaced by ids of real objects of the emulated
tenant, chosen so that the response has content where the example's does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from tests.fidelity.crawl import kind_for
from tests.fidelity.oracle.endpoints import lookup_keys
from tests.fidelity.oracle.examples import Example


@dataclass(frozen=True)
class Run:
    """An example, the URL we sent for it, and what the emulator answered."""

    example: Example
    url: str
    status: int
    body: Any


def _segment_matches(pattern: str, template: str) -> bool:
    if template.startswith("{"):
        return pattern == "*"
    return pattern != "*" and bool(set(lookup_keys(pattern)) & set(lookup_keys(template)))


def served_template(example: Example, routes: Iterable[tuple[str, str]]) -> str | None:
    """The emulator's route template that serves the example's method and path, if any."""
    parts = [p for p in example.path.split("/") if p]
    for method, template in routes:
        segments = [s for s in template.split("/") if s]
        if method == example.method and len(segments) == len(parts) and all(
                _segment_matches(p, s) for p, s in zip(parts, segments, strict=True)):
            return template
    return None


def run_example(client: httpx.Client, example: Example, template: str,
                candidates: dict[str, list[str]]) -> Run:
    """Send the example's GET with real ids, preferring ids that give a non-empty answer."""
    kind = kind_for(template)
    query = example.query
    ids = candidates.get(kind, []) if kind else [""]
    last: Run | None = None
    for object_id in ids or [""]:
        path = _fill(example.path, object_id)
        url = path.lstrip("/") + (f"?{query}" if query else "")
        response = client.request(example.method, url, headers=_headers(url))
        body = response.json() if response.content and _is_json(response) else None
        last = Run(example, url, response.status_code, body)
        if response.status_code == example.status and _has_content(body, example.body):
            return last
    assert last is not None
    return last


def _headers(url: str) -> dict[str, str]:
    """Advanced queries ($count, $search, endsWith, not) need ConsistencyLevel in Graph; the
    docs' requests send it, but the recorded examples keep no request headers."""
    lowered = url.lower()
    advanced = ("$count", "$search", "endswith(", "not(", " ne ")
    return {"ConsistencyLevel": "eventual"} if any(a in lowered for a in advanced) else {}


def _fill(path: str, object_id: str) -> str:
    parts = path.split("/")
    if "*" in parts:
        parts[parts.index("*")] = object_id
    return "/".join(parts)


def _is_json(response: httpx.Response) -> bool:
    content_type: str = response.headers.get("content-type", "")
    return content_type.startswith("application/json")


def _has_content(ours: Any, theirs: Any) -> bool:
    if isinstance(theirs, dict) and isinstance(theirs.get("value"), list) and theirs["value"]:
        return isinstance(ours, dict) and bool(ours.get("value"))
    return True
