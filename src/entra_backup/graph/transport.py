"""The request loop: one Graph call, through the budget, retried only when that is right.

Retried: ``429`` and ``503``/``504`` after their ``Retry-After`` (the whole throttle scope
pauses, since the promise is about the service); without one, a ``503``/``504`` after a
jittered exponential backoff of that request alone; ``500``/``502`` and a
connection dropped after sending only for idempotent methods (a POST that may have been
carried out is not sent twice); a connection that could not be opened a few times; a
``401`` once, after getting a new token. Nothing is retried past ``RetryPolicy.deadline``
seconds from the first attempt. Every other answer raises the matching
:mod:`entra_backup.graph.errors` class.
"""

from __future__ import annotations

import random
import socket
import ssl
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import unquote

import httpx
import orjson

from entra_backup.graph.budget import SERIAL_INTERVAL_SECONDS, ThrottleBudget
from entra_backup.graph.costs import Lane, RequestCost, estimate
from entra_backup.graph.errors import (
    ForeignUrl,
    GraphClientError,
    RetryDeadlineExceeded,
    ServiceError,
    ThrottledTooLong,
    TransportError,
    UnsafePath,
    from_response,
)
from entra_backup.graph.tls import trust

IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE"})
ALWAYS_RETRIED = frozenset({503, 504})
RETRIED_WHEN_IDEMPOTENT = frozenset({500, 502})
USER_AGENT = "entra-backup/0.1"


class TokenSource(Protocol):
    """Where access tokens come from (``TokenProvider`` in production)."""

    async def atoken(self) -> str:
        """A valid access token."""
        ...

    def invalidate(self) -> None:
        """Forget the current token after Graph refused it."""
        ...


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. Defaults follow the Graph SDKs' retry handler, with a deadline."""

    max_attempts: int = 10
    deadline: float = 900.0
    base_delay: float = 1.0
    max_delay: float = 60.0
    connect_attempts: int = 3


@dataclass(frozen=True)
class GraphResponse:
    """A successful Graph answer: status, lower-cased headers and the parsed JSON body."""

    status: int
    headers: dict[str, str]
    body: Any
    url: str

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object (an empty one for ``204 No Content``)."""
        if self.body is None:
            return {}
        if not isinstance(self.body, dict):
            raise ServiceError(f"Graph answered {self.url} with JSON that is not an object.")
        return self.body


@dataclass
class _Attempts:
    """One logical request and its retry state."""

    method: str
    url: str
    content: bytes | None
    headers: dict[str, str] | None
    permission: str | None
    safe: bool
    started: float
    sent: int = 0
    connect_failures: int = 0
    token_refreshed: bool = False
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))


class GraphTransport:
    """Sends Graph requests for one tenant connection over a pooled HTTPS client."""

    def __init__(self, graph_url: str, tokens: TokenSource, budget: ThrottleBudget, *,
                 ca_bundle: str | None = None, policy: RetryPolicy | None = None,
                 http: httpx.AsyncClient | None = None, timeout: float = 60.0,
                 priority: str = "low", rng: random.Random | None = None) -> None:
        self.graph_url = graph_url.rstrip("/")
        self.tokens = tokens
        self.budget = budget
        self.counters = budget.counters
        self.policy = policy or RetryPolicy()
        self.priority = priority
        self._rng = rng or random.Random()
        self._http = http or httpx.AsyncClient(
            verify=trust(ca_bundle),
            timeout=httpx.Timeout(timeout, connect=min(timeout, 15.0)),
            limits=httpx.Limits(max_keepalive_connections=20, keepalive_expiry=60),
        )

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._http.aclose()

    def url_for(self, path_or_url: str, params: dict[str, str] | None = None) -> str:
        """An absolute URL: a full URL (a nextLink) is kept exactly, a path joins the base.

        A full URL must be on the Graph origin: the bearer token is sent with every
        request, and a link from a response, a file or a batch body could point anywhere.
        """
        _check_segments(path_or_url)
        if "://" in path_or_url.split("?", 1)[0]:
            url = path_or_url
            self._check_origin(url)
        else:
            url = f"{self.graph_url}/{path_or_url.lstrip('/')}"
        if params:
            url = str(httpx.URL(url, params=params))
        return url

    def on_graph_origin(self, url: str) -> bool:
        """Whether ``url`` is on the Graph origin, where the token may go."""
        return _origin_of(url) == _origin_of(self.graph_url)

    def _check_origin(self, url: str) -> None:
        home = _origin_of(self.graph_url)
        if _origin_of(url) != home:
            scheme, host, port = home
            raise ForeignUrl(
                f"Refused to follow a link to {url[:120]!r}: it is not on the Graph origin "
                f"{scheme}://{host}:{port}, and the access token is sent only there.")

    async def request(self, method: str, path_or_url: str, *,
                      params: dict[str, str] | None = None, json: Any = None,
                      headers: dict[str, str] | None = None, permission: str | None = None,
                      cost: RequestCost | None = None, units: int | None = None,
                      writes: int | None = None, idempotent: bool | None = None,
                      ) -> GraphResponse:
        """Send one request until it succeeds or fails for good; see the module docstring.

        ``permission`` names the permission the call needs, for a clearer 403 message.
        ``cost``/``units``/``writes`` override the budget charge (a ``$batch`` sums its parts).
        """
        method = method.upper()
        url = self.url_for(path_or_url, params)
        charge = cost or estimate(method, url)
        safe = method in IDEMPOTENT if idempotent is None else idempotent
        state = _Attempts(method, url, orjson.dumps(json) if json is not None else None,
                          headers, permission, safe, started=self.budget.clock.now())
        while True:
            async with self.budget.admit(charge, units=units, writes=writes) as admission:
                response = await self._send_once(state)
                if response is not None:
                    self.budget.observe(admission, response.status_code, _lower(response))
            if response is None:
                continue
            if response.status_code < 400:
                return _parsed(response, url)
            await self._after_failure(response, state, admission.cost.lane)

    async def _send_once(self, state: _Attempts) -> httpx.Response | None:
        """One HTTP exchange; None when a transport failure will be retried."""
        headers = {
            "Authorization": f"Bearer {await self.tokens.atoken()}",
            "client-request-id": state.request_id,
            "x-ms-throttle-priority": self.priority,
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
        }
        if state.content is not None:
            headers["Content-Type"] = "application/json"
        if state.sent:
            headers["Retry-Attempt"] = str(state.sent)
        headers.update(state.headers or {})
        state.sent += 1
        self.counters.requests += 1
        try:
            return await self._http.request(state.method, state.url, content=state.content,
                                            headers=headers)
        except httpx.TransportError as exc:
            delay = self._transport_retry_delay(exc, state)
        await self._backoff_sleep(delay, state, None)
        return None

    def _transport_retry_delay(self, exc: httpx.TransportError, state: _Attempts) -> float:
        """The wait before resending after a transport failure, or the final error."""
        url = state.url
        unreachable = _unreachable_reason(exc)
        if unreachable is not None:
            raise TransportError(f"Cannot reach Graph at {_origin(url)}: {unreachable}") from exc
        not_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
        if not_sent:
            state.connect_failures += 1
        out_of_tries = state.connect_failures >= self.policy.connect_attempts
        if (not_sent and out_of_tries) or (not not_sent and not state.safe) \
                or state.sent >= self.policy.max_attempts:
            what = "Cannot reach" if not_sent else "Lost the connection to"
            raise TransportError(
                f"{what} Graph at {_origin(url)} ({type(exc).__name__}: "
                f"{exc or 'no detail'}). Check the Graph URL and the network.") from exc
        return self._backoff(state)

    async def _after_failure(self, response: httpx.Response, state: _Attempts,
                             lane: Lane) -> None:
        """Prepare the next attempt for a failed answer, or raise the final error."""
        status, method, url = response.status_code, state.method, state.url
        headers = _lower(response)
        if status == 401 and not state.token_refreshed:
            state.token_refreshed = True
            self.tokens.invalidate()
            self.counters.retries += 1
            return
        retryable = status == 429 or status in ALWAYS_RETRIED or (
            state.safe and status in RETRIED_WHEN_IDEMPOTENT)
        if not retryable:
            raise from_response(status, _body(response), headers, method=method, url=url,
                                permission=state.permission)
        delay = _retry_after(headers)
        if status == 429:
            self._throttled(delay, headers, state, lane)
            return
        final = from_response(status, _body(response), headers, method=method, url=url)
        if delay is None:
            await self._backoff_sleep(self._backoff(state), state, final)
            return
        # A Retry-After on a 503 is a promise about the service, not about this request:
        # every request of the scope waits it out, as for a 429.
        self._check_deadline(delay, state, final)
        self.budget.pause_service(lane, delay, headers.get("x-ms-throttle-scope"))
        self.counters.retries += 1

    def _throttled(self, delay: float | None, headers: dict[str, str], state: _Attempts,
                   lane: Lane) -> None:
        """Pause the throttle scope for Retry-After (or a backoff when Graph sends none)."""
        url = state.url
        wait = delay if delay is not None else self._backoff(state)
        if delay is None and lane is Lane.SERIAL:
            # Graph counted the refused request too: the next one must clear its second.
            wait = max(wait, 2 * SERIAL_INTERVAL_SECONDS)
        elapsed = self.budget.clock.now() - state.started
        if elapsed + wait > self.policy.deadline or state.sent >= self.policy.max_attempts:
            raise ThrottledTooLong(
                f"Graph kept throttling {_origin(url)} for {elapsed:.0f} s (next wait "
                f"{wait:.0f} s, deadline {self.policy.deadline:.0f} s). Run the job later or "
                "with fewer tenants in parallel.", status=429)
        self.budget.pause(lane, wait, headers.get("x-ms-throttle-scope"))
        self.counters.throttle_waits += 1
        self.counters.throttle_wait_seconds += wait
        self.counters.retries += 1

    async def _backoff_sleep(self, delay: float, state: _Attempts,
                             final: GraphClientError | None) -> None:
        self._check_deadline(delay, state, final)
        self.counters.retries += 1
        await self.budget.clock.sleep(delay)

    def _check_deadline(self, delay: float, state: _Attempts,
                        final: GraphClientError | None) -> None:
        """Raise the final error when waiting ``delay`` more would pass a limit."""
        elapsed = self.budget.clock.now() - state.started
        if elapsed + delay > self.policy.deadline or state.sent >= self.policy.max_attempts:
            if final is not None and state.sent >= self.policy.max_attempts:
                raise final
            raise RetryDeadlineExceeded(
                f"Gave up on {_origin(state.url)} after {state.sent} attempts in "
                f"{elapsed:.0f} s; the last failure was: {final or 'a transport error'}.")

    def _backoff(self, state: _Attempts) -> float:
        """Exponential backoff with equal jitter: half fixed, half random."""
        exponent = max(state.sent - 1, 0)
        ceiling = min(self.policy.max_delay, self.policy.base_delay * 2.0 ** exponent)
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)


def _lower(response: httpx.Response) -> dict[str, str]:
    return {name.lower(): value for name, value in response.headers.items()}


def _body(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None


def _parsed(response: httpx.Response, url: str) -> GraphResponse:
    body: Any = None
    if response.content:
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            raise ServiceError(f"Graph answered {url} with a body that is not JSON.",
                               status=response.status_code) from exc
    return GraphResponse(response.status_code, _lower(response), body, url)


def _retry_after(headers: dict[str, str]) -> float | None:
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None


def _unreachable_reason(exc: BaseException) -> str | None:
    """Why a connection can never succeed (DNS, TLS trust), or None for a transient failure."""
    current: BaseException | None = exc
    while current is not None:
        if isinstance(current, ssl.SSLCertVerificationError):
            return (f"the TLS certificate is not trusted ({current.verify_message}). "
                    "Pass the CA bundle that signed it (--ca-bundle).")
        if isinstance(current, socket.gaierror):
            return "the host name does not resolve. Check the Graph URL."
        current = current.__cause__ or current.__context__
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return "the TLS certificate is not trusted. Pass the CA bundle (--ca-bundle)."
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "the host name does not resolve. Check the Graph URL."
    return None


def _check_segments(path_or_url: str) -> None:
    """Refuse a path that would not reach the resource it names once resolved.

    Paths carry object ids read from snapshots, plans and journals; an id such as
    ``../servicePrincipals/<id>`` would otherwise be resolved by the HTTP stack into a
    request for another object, and a ``#`` would cut the path short. Graph paths never
    hold such segments.
    """
    path = path_or_url.split("?", 1)[0]
    if "://" in path:
        path = path.split("://", 1)[1].partition("/")[2]
    segments = [unquote(segment) for segment in path.split("/")]
    if "#" in path or any(s in (".", "..") or "/" in s or "\\" in s for s in segments):
        raise UnsafePath(f"Refused the Graph path {path_or_url[:160]!r}: it holds a '.', "
                         "'..' or '#' segment, which no Graph resource has (a damaged or "
                         "edited id?).")


def _origin_of(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port, as browsers compare origins (default ports made explicit)."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return "", url, None
    port = parsed.port or {"https": 443, "http": 80}.get(parsed.scheme)
    return parsed.scheme, parsed.host.lower(), port


def _origin(url: str) -> str:
    parsed = httpx.URL(url)
    return f"{parsed.scheme}://{parsed.netloc.decode()}{parsed.path}"
