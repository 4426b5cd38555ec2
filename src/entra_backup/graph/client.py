"""``GraphClient``: the one object the services use to talk to a tenant's Graph.

Build it with :meth:`GraphClient.connect` from a :class:`TenantConnection`; it owns the
token provider, the throttle budget and the pooled HTTPS client of that tenant. Close it
(``async with`` or ``aclose``) when the job ends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import httpx

from entra_backup.graph.auth import Credential, TokenProvider
from entra_backup.graph.batch import BatchRequest, BatchResult, run_batch
from entra_backup.graph.budget import TenantSize, ThrottleBudget
from entra_backup.graph.clock import Clock
from entra_backup.graph.clouds import Endpoints, resolve_endpoints
from entra_backup.graph.counters import GraphCounters
from entra_backup.graph.delta import DeltaChanges, delta_round
from entra_backup.graph.pager import Page, iterate_items, iterate_pages
from entra_backup.graph.transport import GraphTransport, RetryPolicy


@dataclass(frozen=True)
class TenantConnection:
    """How to reach one tenant: identity, credential and, when not the public cloud, URLs."""

    tenant_id: str
    client_id: str
    credential: Credential = field(repr=False)
    cloud: str = "public"
    authority: str | None = None
    graph_url: str | None = None
    scope: str | None = None
    ca_bundle: str | None = None
    size: TenantSize = TenantSize.MEDIUM

    def endpoints(self) -> Endpoints:
        """The resolved authority, Graph URL and scope."""
        return resolve_endpoints(self.tenant_id, cloud=self.cloud, authority=self.authority,
                                 graph_url=self.graph_url, scope=self.scope)


class GraphClient:
    """Graph calls for one tenant, budgeted, retried and authenticated."""

    def __init__(self, transport: GraphTransport, tokens: TokenProvider | None = None) -> None:
        self.transport = transport
        self.tokens = tokens

    @classmethod
    def connect(cls, connection: TenantConnection, *, clock: Clock | None = None,
                policy: RetryPolicy | None = None, http: httpx.AsyncClient | None = None,
                priority: str = "low", timeout: float = 60.0) -> GraphClient:
        """A client for ``connection``; nothing is sent until the first call."""
        endpoints = connection.endpoints()
        tokens = TokenProvider(endpoints, connection.client_id, connection.credential,
                               ca_bundle=connection.ca_bundle)
        budget = ThrottleBudget(connection.size, clock=clock)
        transport = GraphTransport(endpoints.graph_url, tokens, budget,
                                   ca_bundle=connection.ca_bundle, policy=policy, http=http,
                                   priority=priority, timeout=timeout)
        return cls(transport, tokens)

    @property
    def counters(self) -> GraphCounters:
        """Requests, resource units, throttle waits and retries so far."""
        return self.transport.counters

    @property
    def budget(self) -> ThrottleBudget:
        """The tenant's throttle budget."""
        return self.transport.budget

    async def authenticate(self) -> None:
        """Get a token now, so that bad credentials fail before any work starts."""
        if self.tokens is not None:
            await self.tokens.atoken()

    async def get(self, path: str, params: dict[str, str] | None = None, *,
                  headers: dict[str, str] | None = None,
                  permission: str | None = None) -> dict[str, Any]:
        """GET one resource and return its JSON object."""
        response = await self.transport.request("GET", path, params=params, headers=headers,
                                                permission=permission)
        return response.json_object()

    def iterate(self, path: str, params: dict[str, str] | None = None, *,
                headers: dict[str, str] | None = None,
                permission: str | None = None) -> AsyncIterator[dict[str, Any]]:
        """Every object of a collection, following nextLinks."""
        return iterate_items(self.transport, path, params, headers, permission)

    def pages(self, path: str, params: dict[str, str] | None = None, *,
              headers: dict[str, str] | None = None,
              permission: str | None = None) -> AsyncIterator[Page]:
        """Every page of a collection (for ``@odata.count`` and page-level progress)."""
        return iterate_pages(self.transport, path, params, headers, permission)

    async def delta_round(self, path: str, *, select: Sequence[str] | None = None,
                          delta_link: str | None = None, minimal: bool = False,
                          permission: str | None = None) -> DeltaChanges:
        """One merged delta round; raises ``DeltaTokenExpired`` when a resync is needed."""
        return await delta_round(self.transport, path, select=select, delta_link=delta_link,
                                 minimal=minimal, permission=permission)

    async def batch(self, requests: Sequence[BatchRequest]) -> list[BatchResult]:
        """Send requests through ``$batch`` (20 at a time); results in request order."""
        return await run_batch(self.transport, requests)

    async def post(self, path: str, json: Any = None, *, permission: str | None = None,
                   headers: dict[str, str] | None = None) -> dict[str, Any]:
        """POST and return the created object (or an empty one for 204)."""
        return await self._write("POST", path, json, permission, headers)

    async def patch(self, path: str, json: Any, *, permission: str | None = None,
                    headers: dict[str, str] | None = None) -> dict[str, Any]:
        """PATCH and return Graph's answer (usually empty)."""
        return await self._write("PATCH", path, json, permission, headers)

    async def delete(self, path: str, *, permission: str | None = None) -> None:
        """DELETE a resource."""
        await self._write("DELETE", path, None, permission, None)

    async def _write(self, method: str, path: str, json: Any, permission: str | None,
                     headers: dict[str, str] | None) -> dict[str, Any]:
        response = await self.transport.request(method, path, json=json, headers=headers,
                                                permission=permission)
        return response.json_object()

    async def aclose(self) -> None:
        """Release the connection pools."""
        await self.transport.aclose()
        if self.tokens is not None:
            self.tokens.close()

    async def __aenter__(self) -> GraphClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()
