"""The request loop's retry decisions, against crafted HTTP failures."""

from __future__ import annotations

import httpx
import pytest

from entra_backup.graph.errors import (
    AuthenticationError,
    BadRequest,
    DeltaTokenExpired,
    NotFound,
    PermissionDenied,
    RetryDeadlineExceeded,
    ServiceError,
    ThrottledTooLong,
    TransportError,
)
from entra_backup.graph.transport import RetryPolicy
from tests.graph.support import GRAPH, Handler, ManualClock, graph_error, mock_transport

OK = {"id": "1"}


def script(*answers: httpx.Response | Exception) -> tuple[list[httpx.Request], Handler]:
    """A handler answering with ``answers`` in turn, and the requests it saw."""
    seen: list[httpx.Request] = []
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return seen, handler


async def test_requests_carry_low_priority_a_stable_request_id_and_the_token() -> None:
    seen, handler = script(httpx.Response(503), httpx.Response(200, json=OK))
    transport = mock_transport(handler)
    response = await transport.request("GET", "users/1")
    assert response.body == OK
    first, second = seen
    assert first.headers["x-ms-throttle-priority"] == "low"
    assert first.headers["authorization"] == "Bearer token-1"
    assert first.headers["client-request-id"] == second.headers["client-request-id"]
    assert second.headers["retry-attempt"] == "1"
    assert str(first.url) == f"{GRAPH}/users/1"


async def test_429_waits_its_retry_after_and_pauses_the_scope() -> None:
    clock = ManualClock()
    _, handler = script(
        graph_error(429, "TooManyRequests", headers={
            "Retry-After": "7", "x-ms-throttle-scope": "Tenant_Application/Read/a/t"}),
        httpx.Response(200, json=OK))
    transport = mock_transport(handler, clock)
    await transport.request("GET", "users")
    assert clock.sleeps == [7]
    assert transport.counters.throttle_waits == 1
    assert transport.counters.throttle_wait_seconds == 7
    assert transport.counters.requests == 2


async def test_503_and_504_back_off_exponentially_with_jitter() -> None:
    clock = ManualClock()
    _, handler = script(httpx.Response(503), httpx.Response(504), httpx.Response(503),
                        httpx.Response(200, json=OK))
    transport = mock_transport(handler, clock)
    await transport.request("GET", "users")
    assert len(clock.sleeps) == 3
    for attempt, slept in enumerate(clock.sleeps):
        ceiling = 2.0 ** attempt
        assert ceiling / 2 <= slept <= ceiling
    assert transport.counters.retries == 3


async def test_503_with_retry_after_waits_exactly_that() -> None:
    clock = ManualClock()
    _, handler = script(httpx.Response(503, headers={"Retry-After": "3"}),
                        httpx.Response(200, json=OK))
    await mock_transport(handler, clock).request("GET", "users")
    assert clock.sleeps == [3]


async def test_endless_throttling_stops_at_the_deadline() -> None:
    clock = ManualClock()

    def handler(request: httpx.Request) -> httpx.Response:
        return graph_error(429, "TooManyRequests", headers={"Retry-After": "60"})

    transport = mock_transport(handler, clock, RetryPolicy(deadline=300))
    with pytest.raises(ThrottledTooLong, match="deadline 300 s"):
        await transport.request("GET", "users")
    assert sum(clock.sleeps) <= 300


async def test_endless_server_errors_end_as_a_service_error() -> None:
    clock = ManualClock()
    transport = mock_transport(lambda r: httpx.Response(503), clock, RetryPolicy(max_attempts=4))
    with pytest.raises(ServiceError, match="HTTP 503"):
        await transport.request("GET", "users")
    assert transport.counters.requests == 4


async def test_server_errors_past_the_deadline_raise_deadline_exceeded() -> None:
    clock = ManualClock()
    transport = mock_transport(lambda r: httpx.Response(504), clock,
                               RetryPolicy(deadline=10, max_attempts=100))
    with pytest.raises(RetryDeadlineExceeded):
        await transport.request("GET", "users")
    assert sum(clock.sleeps) <= 10


async def test_a_dropped_connection_is_retried_for_a_read() -> None:
    _, handler = script(httpx.RemoteProtocolError("Server disconnected"),
                        httpx.ReadTimeout("timed out"), httpx.Response(200, json=OK))
    response = await mock_transport(handler).request("GET", "users")
    assert response.body == OK


async def test_a_dropped_connection_is_not_retried_for_a_create() -> None:
    seen, handler = script(httpx.ReadTimeout("timed out"), httpx.Response(201, json=OK))
    with pytest.raises(TransportError, match="Lost the connection"):
        await mock_transport(handler).request("POST", "users", json={})
    assert len(seen) == 1


async def test_500_is_retried_for_reads_only() -> None:
    _, handler = script(httpx.Response(500), httpx.Response(200, json=OK))
    assert (await mock_transport(handler).request("GET", "users")).body == OK
    _, handler = script(httpx.Response(500), httpx.Response(201, json=OK))
    with pytest.raises(ServiceError):
        await mock_transport(handler).request("POST", "users", json={})


async def test_a_refused_token_is_renewed_once() -> None:
    seen, handler = script(graph_error(401, "InvalidAuthenticationToken"),
                           httpx.Response(200, json=OK))
    transport = mock_transport(handler)
    await transport.request("GET", "users")
    assert [r.headers["authorization"] for r in seen] == ["Bearer token-1", "Bearer token-2"]


async def test_a_token_refused_twice_is_an_authentication_error() -> None:
    transport = mock_transport(lambda r: graph_error(401, "InvalidAuthenticationToken"))
    with pytest.raises(AuthenticationError, match="refused the access token"):
        await transport.request("GET", "users")


async def test_403_names_the_permission_the_caller_needs() -> None:
    transport = mock_transport(lambda r: graph_error(
        403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."))
    with pytest.raises(PermissionDenied, match=r"User\.Read\.All") as info:
        await transport.request("GET", "users", permission="User.Read.All")
    assert info.value.permission == "User.Read.All"
    assert transport.counters.requests == 1


async def test_403_takes_the_permission_from_graphs_message() -> None:
    transport = mock_transport(lambda r: graph_error(
        403, "Forbidden", "Missing role permissions on the request. API requires one of "
                          "'Policy.Read.All'. Roles on the request ''."))
    with pytest.raises(PermissionDenied) as info:
        await transport.request("GET", "policies/authorizationPolicy")
    assert info.value.permission == "Policy.Read.All"


async def test_410_is_a_delta_token_expiry_with_the_restart_location() -> None:
    location = f"{GRAPH}/users/delta?$deltatoken="
    transport = mock_transport(lambda r: graph_error(
        410, "resyncRequired", "Resync required.", headers={"Location": location}))
    with pytest.raises(DeltaTokenExpired) as info:
        await transport.request("GET", f"{GRAPH}/users/delta?$deltatoken=abc")
    assert info.value.location == location


async def test_sync_state_not_found_is_a_delta_token_expiry() -> None:
    transport = mock_transport(lambda r: graph_error(400, "syncStateNotFound", "expired"))
    with pytest.raises(DeltaTokenExpired):
        await transport.request("GET", f"{GRAPH}/users/delta?$deltatoken=abc")


async def test_client_errors_are_not_retried() -> None:
    transport = mock_transport(lambda r: graph_error(
        400, "Request_BadRequest", "Invalid value specified for property 'mailNickname'."))
    with pytest.raises(BadRequest, match="mailNickname") as info:
        await transport.request("POST", "groups", json={})
    assert info.value.code == "Request_BadRequest"
    assert transport.counters.requests == 1
    with pytest.raises(NotFound):
        await mock_transport(lambda r: graph_error(404, "Request_ResourceNotFound")).request(
            "GET", "users/x")


async def test_an_unresolvable_host_fails_at_once() -> None:
    transport = mock_transport(None, graph="https://graph.invalid/v1.0")
    with pytest.raises(TransportError, match="does not resolve"):
        await transport.request("GET", "https://graph.invalid/v1.0/users")
    assert transport.counters.requests == 1
    await transport.aclose()


async def test_a_refused_connection_is_tried_a_few_times_then_reported() -> None:
    clock = ManualClock()
    transport = mock_transport(None, clock, graph="https://127.0.0.1:9/v1.0")
    with pytest.raises(TransportError, match=r"Cannot reach Graph at https://127\.0\.0\.1:9"):
        await transport.request("GET", "https://127.0.0.1:9/v1.0/users")
    assert transport.counters.requests == 3
    await transport.aclose()
