"""Following ``@odata.nextLink`` through a Graph collection (https://learn.microsoft.com/graph/paging).

The nextLink is used exactly as Graph gave it; request headers such as ``ConsistencyLevel``
are not carried over by Graph, so they are sent again with every page; a page may be empty
and still have a nextLink. ``@odata.count`` arrives on the first page only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from entra_backup.graph.errors import ServiceError
from entra_backup.graph.transport import GraphTransport


@dataclass(frozen=True)
class Page:
    """One page of a collection."""

    items: list[dict[str, Any]]
    next_link: str | None
    delta_link: str | None
    count: int | None
    url: str


def parse_page(body: dict[str, Any], url: str) -> Page:
    """A page from a collection response body."""
    value = body.get("value", [])
    if not isinstance(value, list):
        raise ServiceError(f"Graph answered {url} without a 'value' list.")
    count = body.get("@odata.count")
    return Page(
        items=[item for item in value if isinstance(item, dict)],
        next_link=_link(body, "@odata.nextLink"),
        delta_link=_link(body, "@odata.deltaLink"),
        count=int(count) if isinstance(count, int) else None,
        url=url,
    )


async def iterate_pages(transport: GraphTransport, path: str,
                        params: dict[str, str] | None = None,
                        headers: dict[str, str] | None = None,
                        permission: str | None = None) -> AsyncIterator[Page]:
    """Every page of ``path``; the last one carries the deltaLink, if any."""
    url = transport.url_for(path, params)
    seen: set[str] = set()
    while True:
        response = await transport.request("GET", url, headers=headers, permission=permission)
        page = parse_page(response.json_object(), url)
        yield page
        if page.next_link is None:
            return
        if page.next_link in seen:
            raise ServiceError(f"Graph returned the same nextLink twice while paging {path}; "
                               "stopping instead of looping.")
        seen.add(page.next_link)
        url = page.next_link


async def iterate_items(transport: GraphTransport, path: str,
                        params: dict[str, str] | None = None,
                        headers: dict[str, str] | None = None,
                        permission: str | None = None) -> AsyncIterator[dict[str, Any]]:
    """Every object of a collection, page after page, without holding more than one page."""
    async for page in iterate_pages(transport, path, params, headers, permission):
        for item in page.items:
            yield item


def _link(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    return value if isinstance(value, str) and value else None
