"""Fault injection: seeded service errors, dropped connections and slow answers."""

from __future__ import annotations

import logging
import ssl
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from graph_emulator.app import create_app
from graph_emulator.context import Context
from graph_emulator.faults import DELAY_HEADER, DROP_HEADER
from graph_emulator.http_faults import ConnectionDropped, HttpFaults
from graph_emulator.identity.certs import ensure_tls_files
from graph_emulator.protocol import GraphResponse
from tests.emulator._gates_support import emulator
from tests.support.https_server import serve_https

SERVICE_STATUSES = {429, 500, 502, 503, 504}


def outcomes(seed: int, calls: int = 200, rate: float = 0.5) -> list[tuple[int, str]]:
    p, _ = emulator(throttle="off", fault_rate=rate, seed=seed, users=1)
    seen = []
    for _ in range(calls):
        response = p.call("GET", "/users?$select=id")
        marks = sorted(k for k in response.headers
                       if k.startswith("x-emulator") or k == "Retry-After")
        seen.append((response.status, ",".join(marks)))
    return seen


def test_the_same_seed_gives_the_same_faults_in_the_same_order() -> None:
    assert outcomes(seed=5) == outcomes(seed=5)
    assert outcomes(seed=5) != outcomes(seed=6)


def test_no_faults_at_rate_zero() -> None:
    p, gates = emulator(throttle="off", fault_rate=0.0, users=1)

    assert {p.call("GET", "/users").status for _ in range(200)} == {200}
    assert gates.counters()["faults_injected"] == {}


def test_the_rate_sets_the_share_of_failed_calls() -> None:
    seen = outcomes(seed=2, calls=1000, rate=0.2)
    faulty = [o for o in seen if o != (200, "")]

    assert 150 <= len(faulty) <= 250
    assert {status for status, _ in faulty} <= SERVICE_STATUSES | {200}


def test_every_kind_of_fault_occurs_and_429s_say_when_to_retry() -> None:
    seen = outcomes(seed=3, calls=600, rate=1.0)
    kinds = Counter(seen)

    assert {status for status, _ in seen} == SERVICE_STATUSES | {200}
    assert (429, "Retry-After") in kinds and (429, "") not in kinds
    assert (503, "Retry-After") in kinds and (503, "") in kinds
    assert (200, DROP_HEADER) in kinds and (200, DELAY_HEADER) in kinds
    assert (502, DROP_HEADER) in kinds


def test_a_drop_after_the_handler_ran_still_applied_the_call() -> None:
    p, _ = emulator(throttle="off", fault_rate=1.0, seed=4)
    applied: list[int] = []

    def write(ctx: Context) -> GraphResponse:
        applied.append(1)
        return GraphResponse(204)

    p.emulator.router.add("POST", "/probe/write", write, ())
    results = [(p.call("POST", "/probe/write"), len(applied)) for _ in range(100)]

    after = [count for response, count in results if DROP_HEADER in response.headers
             and response.status == 204]
    before = [r for r, _ in results if DROP_HEADER in r.headers and r.status == 502]
    assert after and before
    assert len(applied) == sum(1 for r, _ in results if r.status == 204)


def test_a_batch_fails_as_a_connection_and_its_requests_as_operations() -> None:
    p, gates = emulator(throttle="off", fault_rate=1.0, seed=8, users=1)
    inner_statuses: set[int] = set()
    for _ in range(20):
        response = p.call("POST", "/$batch", {"requests": [
            {"id": str(n), "method": "GET", "url": "/users"} for n in range(5)]})
        assert DROP_HEADER in response.headers or DELAY_HEADER in response.headers
        if response.status != 200:
            continue
        for entry in response.body["responses"]:
            inner_statuses.add(entry["status"])
            assert not any(k.startswith("x-emulator") for k in entry["headers"])

    assert inner_statuses and inner_statuses <= SERVICE_STATUSES
    assert gates.counters()["faults_injected"]


def test_a_retry_before_a_fault_429s_retry_after_is_counted() -> None:
    p, gates = emulator(throttle="off", fault_rate=1.0, seed=3, users=1)
    for _ in range(100):
        response = p.call("GET", "/users")
        if response.status == 429:
            break
    gates.configure({"fault_rate": 0})

    p.emulator.clock.advance(0.9)
    p.call("GET", "/users")

    assert gates.counters()["retried_too_early"] == 1


def test_reseeding_restarts_the_fault_sequence() -> None:
    p, gates = emulator(throttle="off", fault_rate=0.5, seed=11, users=1)
    first = [p.call("GET", "/users").status for _ in range(50)]

    gates.configure({"seed": 11})

    assert [p.call("GET", "/users").status for _ in range(50)] == first


async def test_endpoints_outside_graph_never_see_faults() -> None:
    p, gates = emulator(fault_rate=1.0)

    async def token(_: Request) -> Response:
        return JSONResponse({"access_token": "t"})

    app = create_app(p.emulator, [Route("/tenant/oauth2/v2.0/token", token, methods=["POST"])])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=HttpFaults(app))) as client:
        statuses = {(await client.post("https://e/tenant/oauth2/v2.0/token")).status_code
                    for _ in range(20)}

    assert statuses == {200}
    assert gates.counters()["faults_injected"] == {}
    p.call("GET", "/users")
    assert sum(gates.counters()["faults_injected"].values()) == 1


def _app_answering(headers: dict[str, str]) -> Starlette:
    async def answer(_: Request) -> Response:
        return JSONResponse({"ok": True}, headers=headers)

    return Starlette(routes=[Route("/{path:path}", answer)])


async def test_a_delay_header_makes_the_answer_wait_and_is_not_sent() -> None:
    waited: list[float] = []

    async def sleep(seconds: float) -> None:
        waited.append(seconds)

    app = HttpFaults(_app_answering({DELAY_HEADER: "2500"}), sleep=sleep)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
        response = await client.get("https://e/x")

    assert response.status_code == 200
    assert waited == [2.5]
    assert DELAY_HEADER not in response.headers


async def test_a_drop_header_without_a_real_connection_raises_to_the_server() -> None:
    app = HttpFaults(_app_answering({DROP_HEADER: "1"}))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
        with pytest.raises(ConnectionDropped):
            await client.get("https://e/x")


def test_a_dropped_connection_over_https_sends_nothing_and_logs_no_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tls = ensure_tls_files(tmp_path / "tls")
    outer = _app_answering({})
    dropping = _app_answering({DROP_HEADER: "1"})

    async def route(scope: Any, receive: Any, send: Any) -> None:
        target = dropping if scope.get("path") == "/drop" else outer
        await target(scope, receive, send)

    with caplog.at_level(logging.WARNING), serve_https(HttpFaults(route), tls) as server, \
            httpx.Client(verify=ssl.create_default_context(cafile=server.ca_bundle)) as client:
        with pytest.raises(httpx.RemoteProtocolError, match="without sending"):
            client.get(f"{server.base_url}/drop")
        assert client.get(f"{server.base_url}/x").status_code == 200

    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_the_graph_app_wrapped_in_http_faults_drops_delays_and_fails_over_https(
    tmp_path: Path,
) -> None:
    p, gates = emulator(throttle="off", fault_rate=1.0, seed=21, users=1)
    waited: list[float] = []

    async def sleep(seconds: float) -> None:
        waited.append(seconds)

    app = HttpFaults(create_app(p.emulator), sleep=sleep)
    outcomes: Counter[str] = Counter()
    with serve_https(app, ensure_tls_files(tmp_path / "tls")) as server, \
            httpx.Client(verify=ssl.create_default_context(cafile=server.ca_bundle)) as client:
        for _ in range(40):
            try:
                response = client.get(f"{server.base_url}/v1.0/users")
            except httpx.RemoteProtocolError:
                outcomes["dropped"] += 1
                continue
            assert DELAY_HEADER not in response.headers
            outcomes[str(response.status_code)] += 1

    injected = gates.counters()["faults_injected"]
    assert outcomes["dropped"] == injected.get("dropBefore", 0) + injected.get("dropAfter", 0) > 0
    assert len(waited) == injected["slow"] > 0
    assert {"429", "503"} <= set(outcomes)
