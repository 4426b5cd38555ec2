"""JSON batching: validation, per-request status, dependsOn with 424, order, throttling."""

from __future__ import annotations

import ssl
from typing import Any

import httpx
import pytest

from graph_emulator.context import Context
from graph_emulator.protocol import GraphResponse
from tests.emulator._gates_support import emulator, probe
from tests.support.inprocess import InProcess
from tests.support.live_emulator import LiveEmulator

USER = "00000000-0000-4000-8000-000000000000"
MISSING = "00000000-0000-4000-8000-00000000ffff"


def get(request_id: str, url: str, **extra: Any) -> dict[str, Any]:
    return {"id": request_id, "method": "GET", "url": url, **extra}


def batch(p: InProcess, *requests: dict[str, Any]) -> GraphResponse:
    return p.call("POST", "/$batch", {"requests": list(requests)})


def by_id(response: GraphResponse) -> dict[str, dict[str, Any]]:
    assert response.status == 200, response.body
    return {entry["id"]: entry for entry in response.body["responses"]}


def test_each_request_gets_its_own_status_headers_and_inline_json_body() -> None:
    p, _ = emulator(users=1)

    results = by_id(batch(p, get("1", f"/users/{USER}"), get("2", f"users/{MISSING}")))

    assert results["1"]["status"] == 200
    assert results["1"]["body"]["id"] == USER
    assert results["1"]["headers"]["x-ms-resource-unit"] == "2"
    assert results["2"]["status"] == 404
    assert results["2"]["body"]["error"]["code"] == "Request_ResourceNotFound"


def test_a_failed_prerequisite_makes_its_dependents_answer_424() -> None:
    p, _ = emulator(users=1)

    results = by_id(batch(
        p,
        get("1", f"/users/{MISSING}"),
        get("2", f"/users/{USER}", dependsOn=["1"]),
        get("3", "/users", dependsOn=["2"]),
        get("4", f"/users/{USER}"),
    ))

    assert [results[i]["status"] for i in "1234"] == [404, 424, 424, 200]


def test_dependents_run_after_their_prerequisites() -> None:
    p, _ = emulator()
    ran: list[str] = []

    def record(ctx: Context) -> GraphResponse:
        ran.append(ctx.request.json()["name"])
        return GraphResponse(204)

    p.emulator.router.add("POST", "/probe/record", record, ())
    headers = {"Content-Type": "application/json"}

    def post(request_id: str, *depends_on: str) -> dict[str, Any]:
        return {"id": request_id, "method": "POST", "url": "/probe/record", "headers": headers,
                "body": {"name": request_id}, "dependsOn": list(depends_on)}

    results = by_id(batch(p, post("c", "b"), post("b", "a"), post("a")))

    assert ran == ["a", "b", "c"]
    assert {entry["status"] for entry in results.values()} == {204}
    assert "body" not in results["a"]


def test_a_write_body_reaches_the_inner_request() -> None:
    p, _ = emulator()
    url = probe(p, 1, method="POST")

    results = by_id(batch(p, {"id": "1", "method": "POST", "url": url, "body": {"city": "Oslo"},
                              "headers": {"Content-Type": "application/json"}}))

    assert results["1"]["body"] == {"city": "Oslo"}


def test_each_request_is_authorised_on_its_own() -> None:
    p, _ = emulator(users=1)
    p.auth.caller.roles = frozenset({"User.Read.All"})

    results = by_id(batch(p, get("1", "/users"), get("2", "/groups")))

    assert results["1"]["status"] == 200
    assert results["2"]["status"] == 403


def test_each_request_is_throttled_on_its_own_with_its_own_retry_after() -> None:
    p, _ = emulator()
    url = probe(p, 500)

    results = by_id(batch(p, *(get(str(n), url) for n in range(8))))

    statuses = sorted(entry["status"] for entry in results.values())
    assert statuses == [200] * 7 + [429]
    refused = next(entry for entry in results.values() if entry["status"] == 429)
    assert int(refused["headers"]["Retry-After"]) >= 1
    assert refused["headers"]["x-ms-throttle-information"] == "ResourceUnitLimitExceeded"


def test_the_batch_itself_costs_nothing_beyond_its_requests() -> None:
    p, _ = emulator(users=1)

    response = batch(p, get("1", "/users"), get("2", "/users?$select=id"))

    assert "x-ms-resource-unit" not in response.headers
    assert sum(p.emulator.resource_units.values()) == 3


def test_responses_come_back_out_of_request_order_but_repeatably_for_a_seed() -> None:
    def order(seed: int) -> list[str]:
        p, _ = emulator(users=1, seed=seed)
        response = batch(p, *(get(str(n), "/users?$select=id") for n in range(10)))
        return [entry["id"] for entry in response.body["responses"]]

    first = order(3)

    assert sorted(first, key=int) == [str(n) for n in range(10)]
    assert first != [str(n) for n in range(10)]
    assert order(3) == first
    assert order(4) != first


@pytest.mark.parametrize(("payload", "message"), [
    ({"requests": [get(str(n), "/users") for n in range(21)]}, "the limit is 20"),
    ({"requests": [{"id": "1", "url": "/users"}]}, "Invalid batch payload format."),
    ({"requests": [{"id": "1", "method": "GET"}]}, "Invalid batch payload format."),
    ({"requests": [{"method": "GET", "url": "/users"}]}, "Invalid batch payload format."),
    ({"requests": [get("1", "/users"), get("1", "/groups")]}, "unique"),
    ({"requests": [get("1", "/users", dependsOn=["9"])]}, "not in the batch"),
    ({"requests": [get("1", "/users", dependsOn=["2"]), get("2", "/users", dependsOn=["1"])]},
     "cycle"),
    ({"requests": [{"id": "1", "method": "POST", "url": "/groups", "body": {"a": 1}}]},
     "does not contain Content-Type"),
    ({"requests": []}, "Invalid batch payload format."),
    ({"value": []}, "Invalid batch payload format."),
])
def test_malformed_batches_are_refused_as_a_whole(payload: dict[str, Any], message: str) -> None:
    p, _ = emulator()

    response = p.call("POST", "/$batch", payload)

    assert response.status == 400
    assert response.body["error"]["code"] == "BadRequest"
    assert message in response.body["error"]["message"]


def test_an_absolute_inner_url_fails_that_request_as_the_service_does() -> None:
    # msgraph-sdk-python#1015: the SDK sent absolute URLs and each got "Resource not found".
    p, _ = emulator(users=1)

    results = by_id(batch(p, get("1", "https://graph.microsoft.com/v1.0/users"),
                          get("2", "/users")))

    assert results["1"]["status"] == 400
    assert "Resource not found for the segment" in results["1"]["body"]["error"]["message"]
    assert results["2"]["status"] == 200


def test_a_batch_inside_a_batch_is_refused() -> None:
    p, _ = emulator()

    results = by_id(batch(p, {"id": "1", "method": "POST", "url": "/$batch",
                              "body": {"requests": []},
                              "headers": {"Content-Type": "application/json"}}))

    assert results["1"]["status"] == 400


class RecordingAuthenticator:
    def __init__(self, p: InProcess) -> None:
        self.p = p
        self.seen: list[str | None] = []

    def authenticate(self, authorization: str | None) -> Any:
        self.seen.append(authorization)
        return self.p.auth.caller


def test_inner_requests_carry_the_outer_authorization() -> None:
    p, _ = emulator(users=1)
    recorder = RecordingAuthenticator(p)
    p.emulator.authenticator = recorder

    p.call("POST", "/$batch", {"requests": [get("1", "/users")]},
           headers={"Authorization": "Bearer token-1"})

    assert recorder.seen == ["Bearer token-1", "Bearer token-1"]


def test_a_batch_over_https_authorises_every_request_with_the_real_token(
    emulator: LiveEmulator,
) -> None:
    body = {"requests": [get("1", "/users?$top=2&$select=id"), get("2", "organization"),
                         get("3", f"/users/{MISSING}"), get("4", "/users", dependsOn=["3"])]}
    with httpx.Client(verify=ssl.create_default_context(cafile=emulator.ca_bundle),
                      headers={"Authorization": f"Bearer {emulator.token()}"}) as client:
        response = client.post(f"{emulator.graph_url}/$batch", json=body)
        anonymous = client.post(f"{emulator.graph_url}/$batch", json=body,
                                headers={"Authorization": ""})

    assert response.status_code == 200
    results = {entry["id"]: entry for entry in response.json()["responses"]}
    assert [results[i]["status"] for i in "1234"] == [200, 200, 404, 424]
    assert len(results["1"]["body"]["value"]) == 2
    assert results["1"]["headers"]["x-ms-resource-unit"] == "1"
    assert anonymous.status_code == 401
