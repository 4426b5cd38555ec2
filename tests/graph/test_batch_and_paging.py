"""``$batch`` correlation and inner retries, and paging details Graph leaves to clients.

Crafted answers (an inner 429 on one request only, an empty page with a nextLink) are
served through httpx's mock transport; the end-to-end tests cover the emulator's own.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from entra_backup.graph.batch import BatchRequest, run_batch
from entra_backup.graph.pager import iterate_items
from tests.graph.support import GRAPH, ManualClock, mock_transport


class BatchServer:
    """Answers ``$batch`` in reverse order; throttles chosen ids a given number of times."""

    def __init__(self, throttle: dict[str, int] | None = None) -> None:
        self.throttle = dict(throttle or {})
        self.batches: list[list[dict[str, Any]]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        inner = json.loads(request.content)["requests"]
        self.batches.append(inner)
        answers = [self.answer(item) for item in reversed(inner)]
        return httpx.Response(200, json={"responses": answers})

    def answer(self, item: dict[str, Any]) -> dict[str, Any]:
        if self.throttle.get(item["id"], 0) > 0:
            self.throttle[item["id"]] -= 1
            return {"id": item["id"], "status": 429,
                    "headers": {"Retry-After": "4" if item["id"] == "2" else "9"},
                    "body": {"error": {"code": "TooManyRequests", "message": "slow down"}}}
        return {"id": item["id"], "status": 200, "headers": {"x-ms-resource-unit": "1"},
                "body": {"id": item["url"].rsplit("/", 1)[-1]}}


def users(count: int) -> list[BatchRequest]:
    return [BatchRequest("GET", f"/users/u{n}") for n in range(count)]


async def test_batches_hold_at_most_20_and_results_follow_request_order() -> None:
    server = BatchServer()
    results = await run_batch(mock_transport(server), users(45))
    assert [len(batch) for batch in server.batches] == [20, 20, 5]
    assert [result.body["id"] for result in results] == [f"u{n}" for n in range(45)]
    assert all(result.ok for result in results)


async def test_an_inner_429_is_retried_alone_after_its_own_retry_after() -> None:
    clock = ManualClock()
    server = BatchServer(throttle={"2": 1, "3": 1})
    transport = mock_transport(server, clock)
    results = await run_batch(transport, users(4))
    assert [result.status for result in results] == [200] * 4
    assert [sorted(i["id"] for i in batch) for batch in server.batches] == [
        ["1", "2", "3", "4"], ["2"], ["3"]]
    assert clock.sleeps == [4, 5]  # request 2 after 4 s, request 3 at 9 s
    assert transport.counters.throttle_waits == 2


async def test_a_failed_dependency_is_reported_per_request() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"responses": [
            {"id": "1", "status": 404, "body": {"error": {"code": "Request_ResourceNotFound",
                                                          "message": "gone"}}},
            {"id": "2", "status": 424, "body": {"error": {"code": "FailedDependency",
                                                          "message": "dependency failed"}}}]})

    requests = [BatchRequest("PATCH", "/groups/g1", body={"displayName": "x"}),
                BatchRequest("PATCH", "/groups/g2", body={}, depends_on=("1",))]
    results = await run_batch(mock_transport(handler), requests)
    assert [r.status for r in results] == [404, 424]
    error = results[0].error()
    assert error is not None and "Not found" in str(error)


async def test_paging_follows_empty_pages_and_resends_consistency_level() -> None:
    pages = {
        "/v1.0/users": {"value": [{"id": "1"}], "@odata.count": 3,
                        "@odata.nextLink": f"{GRAPH}/users?$skiptoken=A%3D%3D"},
        "A==": {"value": [], "@odata.nextLink": f"{GRAPH}/users?$skiptoken=B"},
        "B": {"value": [{"id": "2"}, {"id": "3"}]},
    }
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        token = request.url.params.get("$skiptoken")
        return httpx.Response(200, json=pages[token or request.url.path])

    transport = mock_transport(handler)
    items = [item async for item in iterate_items(
        transport, "users", {"$count": "true"}, {"ConsistencyLevel": "eventual"})]
    assert [item["id"] for item in items] == ["1", "2", "3"]
    assert [r.headers.get("consistencylevel") for r in seen] == ["eventual"] * 3
    assert str(seen[1].url) == f"{GRAPH}/users?$skiptoken=A%3D%3D"
