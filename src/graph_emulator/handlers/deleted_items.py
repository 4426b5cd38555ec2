"""The recycle bin: ``directory/deletedItems`` list, get, ``$count``, restore and permanent
delete (directory-deleteditems-list, -get, -restore, -delete).

Soft-deleted users, Microsoft 365 groups, applications, service principals and
administrative units stay 30 days, then are purged. The purge runs lazily: every
recycle-bin call first purges what expired on the emulator clock, and the control endpoint
can call :func:`purge_expired` directly.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Any

from graph_emulator.context import Context
from graph_emulator.handlers.render import context_url, next_link, page, render
from graph_emulator.model.directory import Directory, Entry
from graph_emulator.model.kinds import KINDS
from graph_emulator.odata import query as odata
from graph_emulator.protocol import GraphError, GraphResponse, not_found
from graph_emulator.routing import Router

RETENTION_SECONDS = 30 * 86400.0
RECYCLABLE: dict[str, str] = {
    "user": "users", "group": "groups", "application": "applications",
    "servicePrincipal": "servicePrincipals", "administrativeUnit": "administrativeUnits",
}
"""Type-cast segment (``microsoft.graph.user``) -> kind."""
ANY_READ = tuple(sorted({p for k in RECYCLABLE.values() for p in KINDS[k].read}))
ANY_WRITE = tuple(sorted({p for k in RECYCLABLE.values() for p in KINDS[k].write}))
ORDERABLE = ("deletedDateTime", "displayName")


def purge_expired(directory: Directory, now: float) -> int:
    """Hard-delete every recycled object deleted 30 days or more before ``now``."""
    expired = [e for e in directory.recycle.values()
               if e.deleted_at is not None and now - e.deleted_at >= RETENTION_SECONDS]
    for entry in expired:
        directory.hard_delete(entry)
    return len(expired)


def _recycled(ctx: Context, object_id: str) -> Entry:
    purge_expired(ctx.directory, ctx.clock.now())
    entry = ctx.directory.recycle.get(object_id)
    if entry is None:
        raise not_found(object_id)
    return entry


def _ordered(entries: list[Entry], orderby: str | None) -> list[Entry]:
    if not orderby:
        return entries
    name, _, direction = orderby.strip().partition(" ")
    if name not in ORDERABLE or direction.strip().lower() not in ("", "asc", "desc"):
        raise GraphError(400, "Request_UnsupportedQuery", "Sorting not supported for current "
                         "query.")
    return sorted(entries, key=lambda e: str(e.data.get(name) or "").lower(),
                  reverse=direction.strip().lower() == "desc")


def _matching(ctx: Context, kind: str) -> tuple[list[Entry], odata.Query]:
    purge_expired(ctx.directory, ctx.clock.now())
    options = {k: v for k, v in ctx.request.query.items() if k.lower() != "$orderby"}
    orderby = next((v for k, v in ctx.request.query.items() if k.lower() == "$orderby"), None)
    query = odata.parse(replace(ctx.request, query=options), kind)
    entries = ctx.directory.recycled(kind)
    if query.filter is not None:
        entries = [e for e in entries if query.filter.predicate(e.data)]
    return _ordered(entries, orderby), query


def list_deleted(ctx: Context, kind: str) -> GraphResponse:
    """``GET /directory/deletedItems/microsoft.graph.{type}``."""
    entries, query = _matching(ctx, kind)
    offset = 0
    if query.skiptoken:
        offset = int(odata.decode_token(query.skiptoken).get("offset", 0))
    size = query.page_size(KINDS[kind].default_top)
    items = [render(e, query.select) for e in entries[offset:offset + size]]
    following = None
    if offset + size < len(entries):
        following = next_link(ctx.request,
                              **{"$skiptoken": odata.encode_token({"offset": offset + size})})
    count = len(entries) if query.count and not query.skiptoken else None
    return GraphResponse(200, page(ctx.request, context_url(ctx.request, kind, query.select),
                                   items, next_url=following, count=count))


def count_deleted(ctx: Context, kind: str) -> GraphResponse:
    """``GET /directory/deletedItems/microsoft.graph.{type}/$count`` (advanced query)."""
    entries, query = _matching(ctx, kind)
    if not query.eventual:
        raise GraphError(400, "Request_BadRequest", "$count is not currently supported.")
    return GraphResponse(200, len(entries), {"content-type": "text/plain"})


def _entity(ctx: Context, entry: Entry, select: list[str] | None = None) -> dict[str, Any]:
    fragment = "directoryObjects/$entity"
    return {"@odata.context": context_url(ctx.request, fragment, select),
            **render(entry, select, typed=True)}


def get_deleted(ctx: Context) -> GraphResponse:
    """``GET /directory/deletedItems/{id}``."""
    entry = _recycled(ctx, ctx.params["id"])
    ctx.require(*KINDS[entry.kind].read)
    select = odata.parse(ctx.request, entry.kind).select
    return GraphResponse(200, _entity(ctx, entry, select))


def _check_restorable(ctx: Context, entry: Entry) -> None:
    if entry.kind == "users":
        upn = str(entry.data.get("userPrincipalName") or "")
        if ctx.directory.find("users", "userPrincipalName", upn):
            raise GraphError(400, "Request_BadRequest",
                             "Another object with the same value for property "
                             "userPrincipalName already exists.",
                             details=[{"code": "ObjectConflict", "target": "userPrincipalName"}])


def restore(ctx: Context) -> GraphResponse:
    """``POST /directory/deletedItems/{id}/restore``: same id, links kept; 200."""
    entry = _recycled(ctx, ctx.params["id"])
    ctx.require(*KINDS[entry.kind].write)
    _check_restorable(ctx, entry)
    ctx.directory.restore(entry)
    return GraphResponse(200, _entity(ctx, entry))


def delete_permanently(ctx: Context) -> GraphResponse:
    """``DELETE /directory/deletedItems/{id}``: gone for good; AUs refuse; 204."""
    entry = _recycled(ctx, ctx.params["id"])
    ctx.require(*KINDS[entry.kind].write)
    if entry.kind == "administrativeUnits":
        raise GraphError(400, "Request_BadRequest",
                         "Administrative units cannot be permanently deleted; they are purged "
                         "automatically 30 days after deletion.")
    ctx.directory.hard_delete(entry)
    return GraphResponse(204)


def register(router: Router) -> None:
    """Add the recycle-bin routes."""
    base = "/directory/deletedItems"
    for cast, kind in RECYCLABLE.items():
        # Graph accepts the cast with its namespace or with the short alias "graph."
        # (Microsoft's SDK sends the short form).
        for namespace in ("microsoft.graph", "graph"):
            segment = f"{base}/{namespace}.{cast}"
            router.add("GET", segment, partial(list_deleted, kind=kind), KINDS[kind].read)
            router.add("GET", segment + "/$count", partial(count_deleted, kind=kind),
                       KINDS[kind].read)
    router.add("GET", base + "/{id}", get_deleted, ANY_READ)
    router.add("DELETE", base + "/{id}", delete_permanently, ANY_WRITE)
    router.add("POST", base + "/{id}/restore", restore, ANY_WRITE)
