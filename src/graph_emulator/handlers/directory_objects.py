"""``POST /directoryObjects/getByIds``: up to 1000 ids resolved in one call, optionally only
of some types (directoryobject-getbyids). It costs 5 resource units (graph-facts 4.2).
``GET /directoryObjects/{id}``: one live directory object of any type, with its
``@odata.type`` (directoryobject-get)."""

from __future__ import annotations

from typing import Any

from graph_emulator.context import Context
from graph_emulator.handlers.render import context_url, render, with_odata_id
from graph_emulator.model.kinds import KINDS
from graph_emulator.odata import query as odata
from graph_emulator.protocol import GraphError, GraphResponse, not_found
from graph_emulator.routing import Router

MAX_IDS = 1000
PERMISSIONS = ("Directory.Read.All", "Directory.ReadWrite.All")
DIRECTORY_OBJECT_KINDS = ("users", "groups", "devices", "applications", "servicePrincipals",
                          "administrativeUnits", "directoryRoles")


def _type_kinds(types: Any) -> set[str]:
    if types is None:
        return set(DIRECTORY_OBJECT_KINDS)
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise GraphError(400, "Request_BadRequest", "'types' must be a list of type names.")
    by_name = {KINDS[k].odata_type.rsplit(".", 1)[-1].lower(): k
               for k in DIRECTORY_OBJECT_KINDS}
    kinds: set[str] = set()
    for name in types:
        short = name.lstrip("#").rsplit(".", 1)[-1].lower()
        if short not in by_name:
            raise GraphError(400, "Request_BadRequest",
                             f"Invalid value specified for property 'types': '{name}'.")
        kinds.add(by_name[short])
    return kinds


def _ids(body: dict[str, Any]) -> list[str]:
    ids = body.get("ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise GraphError(400, "Request_BadRequest",
                         "Property ids value is required but is empty or missing.")
    if len(ids) > MAX_IDS:
        raise GraphError(400, "Request_BadRequest",
                         f"The number of ids cannot exceed {MAX_IDS}.")
    return list(dict.fromkeys(ids))


def get_by_ids(ctx: Context) -> GraphResponse:
    """The live objects among the ids, in request order, each with its ``@odata.type``."""
    body = ctx.request.json_object()
    ids = _ids(body)
    kinds = _type_kinds(body.get("types"))
    raw_select = next((v for k, v in ctx.request.query.items() if k.lower() == "$select"), None)
    select = [s.strip() for s in raw_select.split(",") if s.strip()] if raw_select else None
    if select is not None and "id" not in select:
        select.append("id")
    items = []
    for object_id in ids:
        entry = ctx.directory.get(object_id)
        if entry is not None and entry.kind in kinds:
            items.append(render(entry, select, typed=True))
    return GraphResponse(200, {"@odata.context": context_url(ctx.request, "directoryObjects"),
                               "value": items})


def get_one(ctx: Context) -> GraphResponse:
    """One live directory object (a soft-deleted one is 404, as in Graph)."""
    entry = ctx.directory.get(ctx.params["id"])
    if entry is None or entry.kind not in DIRECTORY_OBJECT_KINDS:
        raise not_found(ctx.params["id"])
    select = odata.parse(ctx.request, entry.kind).select
    # The answer names the object by its directory URL, as documentation example
    # directoryobject-get shows.
    body = with_odata_id(ctx.request, ctx.tenant.tenant_id, entry,
                         render(entry, select, typed=True))
    return GraphResponse(200, {"@odata.context": context_url(ctx.request,
                                                             "directoryObjects/$entity", select),
                               **body})


def register(router: Router) -> None:
    """Add ``getByIds`` and ``GET /directoryObjects/{id}``."""
    router.add("POST", "/directoryObjects/getByIds", get_by_ids, PERMISSIONS, resource_units=5)
    router.add("POST", "/directoryObjects/microsoft.graph.getByIds", get_by_ids, PERMISSIONS,
               resource_units=5)
    router.add("GET", "/directoryObjects/{id}", get_one, PERMISSIONS)
