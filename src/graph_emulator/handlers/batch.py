"""JSON batching: ``POST /$batch`` with up to 20 requests (graph-facts.md section 3).

Each inner request goes through the whole pipeline on its own (authentication with the
outer ``Authorization`` header, routing, permissions, throttling, faults), so one can
fail with 403 or 429 while the others succeed. ``dependsOn`` orders execution; a request
whose prerequisite failed answers 424. Responses come back in an order that is not the
request order (seeded, so a run can be repeated), as clients must correlate by ``id``.
"""

from __future__ import annotations

import base64
import binascii
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

import orjson

from graph_emulator.context import Context
from graph_emulator.protocol import GraphError, GraphRequest, GraphResponse
from graph_emulator.routing import Router

if TYPE_CHECKING:
    from graph_emulator.emulator import Emulator

MAX_REQUESTS = 20
PAYLOAD_FORMAT = "Invalid batch payload format."
"""The service's message for a structurally wrong batch (microsoft-graph-docs-contrib#8576)."""
METHODS = frozenset({"GET", "POST", "PATCH", "PUT", "DELETE"})
INNER_HEADERS_DROPPED = frozenset({"request-id", "client-request-id"})


class BatchError(GraphError):
    """A batch payload the service refuses as a whole (400)."""

    def __init__(self, message: str) -> None:
        super().__init__(400, "BadRequest", message)


@dataclass(frozen=True)
class InnerRequest:
    """One validated entry of ``requests``."""

    id: str
    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    depends_on: tuple[str, ...]


_ORDER: WeakKeyDictionary[Emulator, random.Random] = WeakKeyDictionary()


def set_batch_seed(emulator: Emulator, seed: int) -> None:
    """Seed the order in which an emulator returns batch responses."""
    _ORDER[emulator] = random.Random(f"batch:{seed}")


def register(router: Router) -> None:
    """Add ``POST /$batch``: no permission of its own, and no cost (its requests pay)."""
    router.add("POST", "/$batch", serve_batch, (), resource_units=0)


def serve_batch(ctx: Context) -> GraphResponse:
    """Run every inner request and answer ``{"responses": [...]}``."""
    if ctx.request.in_batch:
        raise BatchError("A batch request cannot contain another batch request.")
    requests = parse_batch(ctx.request.json())
    results: dict[str, dict[str, Any]] = {}
    for inner in execution_order(requests):
        results[inner.id] = _run(ctx, inner, results)
    responses = [results[inner.id] for inner in requests]
    _shuffle(ctx.emulator, responses)
    return GraphResponse(200, {"responses": responses})


def parse_batch(payload: Any) -> list[InnerRequest]:
    """Validate the payload the way the service does, or raise :class:`BatchError`."""
    if not isinstance(payload, dict) or not isinstance(payload.get("requests"), list):
        raise BatchError(PAYLOAD_FORMAT)
    entries: list[Any] = payload["requests"]
    if not entries:
        raise BatchError(PAYLOAD_FORMAT)
    if len(entries) > MAX_REQUESTS:
        raise BatchError(f"The batch request contains {len(entries)} requests; "
                         f"the limit is {MAX_REQUESTS}.")
    requests = [_parse_entry(entry) for entry in entries]
    ids = [inner.id for inner in requests]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise BatchError(f"Batch request ids must be unique; duplicated: {', '.join(duplicates)}.")
    known = set(ids)
    for inner in requests:
        for prerequisite in inner.depends_on:
            if prerequisite not in known:
                raise BatchError(f"Request {inner.id} depends on request {prerequisite}, "
                                 "which is not in the batch.")
    return requests


def _parse_entry(entry: Any) -> InnerRequest:
    if not isinstance(entry, dict):
        raise BatchError(PAYLOAD_FORMAT)
    request_id, method, url = _text(entry, "id"), _text(entry, "method"), _text(entry, "url")
    if method.upper() not in METHODS:
        raise BatchError(f"Request {request_id}: method '{method}' is not supported.")
    headers = entry.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise BatchError(f"Request {request_id}: 'headers' must map names to strings.")
    depends_on = entry.get("dependsOn") or []
    if not isinstance(depends_on, list) or not all(isinstance(d, str) for d in depends_on):
        raise BatchError(f"Request {request_id}: 'dependsOn' must be a list of request ids.")
    body = _encode_body(request_id, entry.get("body"), headers)
    return InnerRequest(request_id, method.upper(), url, dict(headers), body, tuple(depends_on))


def _text(entry: dict[str, Any], name: str) -> str:
    value = entry.get(name)
    if not isinstance(value, str) or not value:
        raise BatchError(PAYLOAD_FORMAT)
    return value


def _encode_body(request_id: str, body: Any, headers: dict[str, str]) -> bytes:
    if body is None:
        return b""
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
    if content_type is None:
        raise BatchError(f"Write request id : {request_id} does not contain Content-Type "
                         "header or body.")
    if isinstance(body, str) and "json" not in content_type.lower():
        # Non-JSON bodies travel base64-encoded (json-batching, "Request format").
        try:
            return base64.b64decode(body, validate=True)
        except binascii.Error as exc:
            raise BatchError(f"Request {request_id}: the body is not base64.") from exc
    return orjson.dumps(body)


def execution_order(requests: list[InnerRequest]) -> list[InnerRequest]:
    """Request order, except that each request runs after everything it depends on."""
    by_id = {inner.id: inner for inner in requests}
    done: set[str] = set()
    order: list[InnerRequest] = []
    visiting: set[str] = set()

    def visit(inner: InnerRequest) -> None:
        if inner.id in done:
            return
        if inner.id in visiting:
            raise BatchError(f"The dependsOn chain of request {inner.id} forms a cycle.")
        visiting.add(inner.id)
        for prerequisite in inner.depends_on:
            visit(by_id[prerequisite])
        visiting.discard(inner.id)
        done.add(inner.id)
        order.append(inner)

    for inner in requests:
        visit(inner)
    return order


def _run(ctx: Context, inner: InnerRequest,
         results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    failed = [d for d in inner.depends_on if results[d]["status"] >= 400]
    if failed:
        return _failed_dependency(inner.id)
    headers = dict(inner.headers)
    authorization = ctx.request.header("Authorization")
    if authorization is not None:
        headers["Authorization"] = authorization
    request = GraphRequest.from_url(inner.method, inner.url, headers, inner.body,
                                    ctx.request.base_url)
    request.in_batch = True
    response = ctx.emulator.dispatch(request)
    return _entry(inner.id, response)


def _entry(request_id: str, response: GraphResponse) -> dict[str, Any]:
    headers = {name: value for name, value in response.headers.items()
               if name.lower() not in INNER_HEADERS_DROPPED
               and not name.lower().startswith("x-emulator-")}
    entry: dict[str, Any] = {"id": request_id, "status": response.status}
    if response.body is not None:
        headers.setdefault("content-type", "application/json")
        entry["body"] = response.body
    entry["headers"] = headers
    return entry


def _failed_dependency(request_id: str) -> dict[str, Any]:
    return {
        "id": request_id,
        "status": 424,
        "headers": {"content-type": "application/json"},
        "body": {"error": {"code": "FailedDependency",
                           "message": "The request depends on a request that failed."}},
    }


def _shuffle(emulator: Emulator, responses: list[dict[str, Any]]) -> None:
    order = _ORDER.get(emulator)
    if order is None:
        order = _ORDER.setdefault(emulator, random.Random("batch:0"))
    original = [entry["id"] for entry in responses]
    order.shuffle(responses)
    if len(responses) > 1 and [entry["id"] for entry in responses] == original:
        # Never the request order, so a client that relies on it fails every time.
        responses.append(responses.pop(0))
