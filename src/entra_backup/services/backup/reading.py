"""Reading one object type from Graph into a spool: delta rounds, enumerations, singletons.

Every reader fills a :class:`DeltaSpool` and reports progress per page; none holds more
than one page in memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from entra_backup.domain.object_types import ObjectType
from entra_backup.graph.client import GraphClient
from entra_backup.graph.errors import ServiceError
from entra_backup.services.backup.spool import DeltaSpool

PageSeen = Callable[[int], None]
"""Called with the number of items of each page read."""
DIRECTORY_PAGE = "999"
"""The largest page the directory collections serve (graph-facts section 2)."""
_TOP_COLLECTIONS = frozenset({"/users", "/groups", "/applications", "/servicePrincipals",
                              "/devices", "/directory/administrativeUnits"})


@dataclass
class RoundResult:
    """What a read produced besides the spooled items."""

    delta_link: str | None
    pages: int


async def delta_round(client: GraphClient, object_type: ObjectType, spool: DeltaSpool,
                      seen: PageSeen, *, delta_link: str | None = None) -> RoundResult:
    """One delta round: from scratch with the type's ``$select``, or replaying a link."""
    assert object_type.delta_path is not None
    if delta_link is None:
        start = object_type.delta_path
        params: dict[str, str] | None = {"$select": ",".join(object_type.delta_select())}
    else:
        start, params = delta_link, None
    pages = 0
    final: str | None = None
    async for page in client.pages(start, params, permission=object_type.read_permission):
        pages += 1
        for item in page.items:
            spool.add(item)
        seen(len(page.items))
        final = page.delta_link or final
    if final is None:
        raise ServiceError(f"the delta round of {object_type.name} ended without a deltaLink")
    return RoundResult(final, pages)


async def enumerate_type(client: GraphClient, object_type: ObjectType, spool: DeltaSpool,
                         seen: PageSeen) -> RoundResult:
    """Every object of a collection without delta (or a singleton), with its ``$select``."""
    params = {"$select": ",".join(object_type.select)}
    permission = object_type.read_permission
    if object_type.singleton:
        spool.add(await client.get(object_type.path, params, permission=permission))
        seen(1)
        return RoundResult(None, 1)
    if object_type.path in _TOP_COLLECTIONS:
        params["$top"] = DIRECTORY_PAGE
    pages = 0
    async for page in client.pages(object_type.path, params, permission=permission):
        pages += 1
        for item in page.items:
            spool.add(item)
        seen(len(page.items))
    return RoundResult(None, pages)
