"""Reading relationships: members, owners, manager, memberOf, app role assignments."""

from __future__ import annotations

from graph_emulator.context import Context
from graph_emulator.handlers.collections import get_entry, related_ids
from graph_emulator.handlers.render import (
    ODATA_ID_NAVIGATIONS,
    context_url,
    next_link,
    page,
    render,
    with_odata_id,
)
from graph_emulator.odata import query as odata
from graph_emulator.protocol import GraphError, GraphResponse


def _page_of_ids(ctx: Context, ids: list[str], fragment: str,
                 *, odata_ids: bool = False) -> GraphResponse:
    query = odata.parse(ctx.request, _any_kind(ctx, ids))
    offset = 0
    if query.skiptoken:
        offset = int(odata.decode_token(query.skiptoken).get("offset", 0))
    size = query.page_size(100)
    entries = [ctx.directory.live[i] for i in ids]
    if query.filter:
        entries = [e for e in entries if query.filter.predicate(e.data)]
    window = entries[offset:offset + size]
    items = [render(e, query.select, typed=True) for e in window]
    if odata_ids:
        items = [with_odata_id(ctx.request, ctx.tenant.tenant_id, e, item)
                 for e, item in zip(window, items, strict=True)]
    following = None
    if offset + size < len(entries):
        following = next_link(ctx.request,
                              **{"$skiptoken": odata.encode_token({"offset": offset + size})})
    count = len(entries) if query.count else None
    return GraphResponse(200, page(ctx.request, context_url(ctx.request, fragment), items,
                                   next_url=following, count=count))


def _any_kind(ctx: Context, ids: list[str]) -> str:
    # $select on a directoryObject collection is checked against the first member's type;
    # Graph accepts any property of the derived types there.
    return ctx.directory.live[ids[0]].kind if ids else "users"


def list_related(ctx: Context, kind: str, navigation: str) -> GraphResponse:
    """``GET /{collection}/{id}/{navigation}`` for directoryObject links."""
    entry = get_entry(ctx, kind, ctx.params["id"])
    ids = related_ids(ctx, entry, navigation)
    return _page_of_ids(ctx, ids, "directoryObjects",
                        odata_ids=navigation in ODATA_ID_NAVIGATIONS)


def get_manager(ctx: Context) -> GraphResponse:
    """``GET /users/{id}/manager``."""
    entry = get_entry(ctx, "users", ctx.params["id"])
    ids = related_ids(ctx, entry, "manager")
    if not ids:
        raise GraphError(404, "Request_ResourceNotFound",
                         "Resource 'manager' does not exist or one of its queried "
                         "reference-property objects are not present.")
    body = render(ctx.directory.live[ids[0]], None, typed=True)
    return GraphResponse(200, {"@odata.context": context_url(ctx.request,
                                                             "directoryObjects/$entity"), **body})


def _list_entities(ctx: Context, kind: str, prop: str, value: str, fragment: str) -> GraphResponse:
    query = odata.parse(ctx.request, kind)
    entries = ctx.directory.find(kind, prop, value)
    if query.filter:
        entries = [e for e in entries if query.filter.predicate(e.data)]
    offset = 0
    if query.skiptoken:
        offset = int(odata.decode_token(query.skiptoken).get("offset", 0))
    size = query.page_size(100)
    items = [render(e, query.select) for e in entries[offset:offset + size]]
    following = None
    if offset + size < len(entries):
        following = next_link(ctx.request,
                              **{"$skiptoken": odata.encode_token({"offset": offset + size})})
    return GraphResponse(200, page(ctx.request, context_url(ctx.request, fragment), items,
                                   next_url=following))


def app_role_assigned_to(ctx: Context) -> GraphResponse:
    """``GET /servicePrincipals/{id}/appRoleAssignedTo``: who holds this app's roles."""
    sp = get_entry(ctx, "servicePrincipals", ctx.params["id"])
    return _list_entities(ctx, "appRoleAssignments", "resourceId", sp.id,
                          f"servicePrincipals('{sp.id}')/appRoleAssignedTo")


def app_role_assignments(ctx: Context, kind: str) -> GraphResponse:
    """``GET /{users|groups|servicePrincipals}/{id}/appRoleAssignments``."""
    principal = get_entry(ctx, kind, ctx.params["id"])
    return _list_entities(ctx, "appRoleAssignments", "principalId", principal.id,
                          f"{kind}('{principal.id}')/appRoleAssignments")


def scoped_role_members(ctx: Context) -> GraphResponse:
    """``GET /directory/administrativeUnits/{id}/scopedRoleMembers``."""
    unit = get_entry(ctx, "administrativeUnits", ctx.params["id"])
    return _list_entities(ctx, "scopedRoleMembers", "administrativeUnitId", unit.id,
                          f"directory/administrativeUnits('{unit.id}')/scopedRoleMembers")

