"""JSON ``$batch`` (https://learn.microsoft.com/graph/json-batching).

Up to 20 requests go in one POST; answers come back in any order and are matched by id.
Each inner request is throttled on its own, so an inner ``429`` (or ``503``/``504``) is
sent again, alone or with other ready requests, once its own ``Retry-After`` has passed;
the others' answers are kept. Batching saves round trips, not quota: every inner request
is charged to the budget at its own cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from entra_backup.graph.costs import Lane, RequestCost, estimate
from entra_backup.graph.errors import GraphClientError, ThrottledTooLong, from_response
from entra_backup.graph.transport import GraphTransport

MAX_BATCH = 20
RETRIED_INNER = frozenset({429, 503, 504})
FAILED_DEPENDENCY = 424


@dataclass(frozen=True)
class BatchRequest:
    """One request of a batch; ``url`` is relative to the version root (``/users/{id}``)."""

    method: str
    url: str
    body: Any = None
    headers: dict[str, str] | None = None
    id: str | None = None
    depends_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class BatchResult:
    """The final answer to one batched request."""

    id: str
    status: int
    headers: dict[str, str]
    body: Any
    request: BatchRequest

    @property
    def ok(self) -> bool:
        """Whether the request succeeded (2xx)."""
        return 200 <= self.status < 300

    def error(self) -> GraphClientError | None:
        """The error this answer stands for, or None when it succeeded."""
        if self.ok:
            return None
        where = f"$batch {self.request.method} {self.request.url}"
        if self.status == 429:
            return ThrottledTooLong(f"Graph kept throttling {where} past the retry deadline.",
                                    status=429)
        return from_response(self.status, self.body, self.headers,
                             method=f"$batch {self.request.method}", url=self.request.url)


@dataclass
class _Pending:
    request: BatchRequest
    id: str
    cost: RequestCost
    ready_at: float = 0.0
    attempts: int = 0


@dataclass
class _Run:
    pending: dict[str, _Pending]
    started: float
    results: dict[str, BatchResult] = field(default_factory=dict)


async def run_batch(transport: GraphTransport,
                    requests: Sequence[BatchRequest]) -> list[BatchResult]:
    """Send ``requests`` in batches of at most 20; results in the order of ``requests``."""
    clock = transport.budget.clock
    run = _Run(_pending(transport, requests), clock.now())
    order = list(run.pending)
    while run.pending:
        chunk = _next_chunk(run, clock.now())
        if not chunk:
            wake = min(item.ready_at for item in run.pending.values())
            await clock.sleep(max(wake - clock.now(), 0.0))
            continue
        await _send_chunk(transport, run, chunk)
    return [run.results[request_id] for request_id in order]


def _pending(transport: GraphTransport, requests: Sequence[BatchRequest]) -> dict[str, _Pending]:
    pending: dict[str, _Pending] = {}
    for index, request in enumerate(requests, start=1):
        request_id = request.id or str(index)
        if request_id in pending:
            raise ValueError(f"Two batch requests share the id {request_id!r}.")
        url = transport.url_for(_relative(request.url))
        pending[request_id] = _Pending(request, request_id, estimate(request.method, url))
    return pending


def _next_chunk(run: _Run, now: float) -> list[_Pending]:
    """Up to 20 ready requests whose unfinished dependencies travel with them."""
    chunk: list[_Pending] = []
    for item in list(run.pending.values()):
        if len(chunk) == MAX_BATCH:
            break
        failed = [dep for dep in item.request.depends_on
                  if dep in run.results and not run.results[dep].ok]
        if failed:
            run.results[item.id] = BatchResult(item.id, FAILED_DEPENDENCY, {}, None, item.request)
            del run.pending[item.id]
            continue
        waiting = [dep for dep in item.request.depends_on if dep in run.pending]
        in_chunk = {member.id for member in chunk}
        if item.ready_at <= now and all(dep in in_chunk for dep in waiting):
            chunk.append(item)
    return chunk


async def _send_chunk(transport: GraphTransport, run: _Run, chunk: list[_Pending]) -> None:
    budget = transport.budget
    ids = {item.id for item in chunk}
    body = {"requests": [_wire(item, ids) for item in chunk]}
    units = sum(budget.charge_of(item.cost) for item in chunk)
    writes = sum(item.cost.writes for item in chunk)
    lane = Lane.WRITE if writes else Lane.READ
    cost = RequestCost(lane, units, writes, ("POST", "$batch", frozenset()))
    response = await transport.request(
        "POST", "$batch", json=body, cost=cost, units=units, writes=writes,
        idempotent=writes == 0)
    answers = {str(answer.get("id")): answer
               for answer in response.json_object().get("responses", [])
               if isinstance(answer, dict)}
    for item in chunk:
        item.attempts += 1
        _settle(transport, run, item, answers.get(item.id))


def _settle(transport: GraphTransport, run: _Run, item: _Pending,
            answer: dict[str, Any] | None) -> None:
    """Record an inner answer, or schedule the request again after its own wait."""
    budget = transport.budget
    status = int(answer.get("status", 503)) if answer else 503
    headers = {str(k).lower(): str(v) for k, v in ((answer or {}).get("headers") or {}).items()}
    measured = headers.get("x-ms-resource-unit")
    budget.record_units(item.cost, budget.charge_of(item.cost),
                        int(measured) if measured and measured.isdigit() else None)
    now = budget.clock.now()
    policy = transport.policy
    if status in RETRIED_INNER and item.attempts < policy.max_attempts:
        delay = _inner_delay(headers, item.attempts, policy.base_delay, policy.max_delay)
        if now + delay - run.started <= policy.deadline:
            if status == 429:
                budget.pause(item.cost.lane, delay, headers.get("x-ms-throttle-scope"))
                budget.counters.throttle_waits += 1
                budget.counters.throttle_wait_seconds += delay
            budget.counters.retries += 1
            item.ready_at = now + delay
            return
    body = (answer or {}).get("body")
    run.results[item.id] = BatchResult(item.id, status, headers, body, item.request)
    del run.pending[item.id]


def _inner_delay(headers: dict[str, str], attempts: int, base: float, ceiling: float) -> float:
    raw = headers.get("retry-after")
    if raw is not None:
        try:
            return max(0.0, float(raw))
        except ValueError:
            pass
    return min(ceiling, base * 2.0 ** (attempts - 1))


def _wire(item: _Pending, chunk_ids: set[str]) -> dict[str, Any]:
    request = item.request
    wire: dict[str, Any] = {"id": item.id, "method": request.method.upper(),
                            "url": _relative(request.url)}
    headers = dict(request.headers or {})
    if request.body is not None:
        headers.setdefault("Content-Type", "application/json")
        wire["body"] = request.body
    if headers:
        wire["headers"] = headers
    depends = [dep for dep in request.depends_on if dep in chunk_ids]
    if depends:
        wire["dependsOn"] = depends
    return wire


def _relative(url: str) -> str:
    """A batch URL relative to the version root, as ``$batch`` requires."""
    if url.startswith(("https://", "http://")):
        for marker in ("/v1.0/", "/beta/"):
            if marker in url:
                url = url.split(marker, 1)[1]
                break
    return "/" + url.lstrip("/")
