"""Reading directory collections and single objects: list, get, ``$count``, ``$expand``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graph_emulator.context import Context
from graph_emulator.handlers.render import (
    ODATA_ID_KINDS,
    context_url,
    next_link,
    page,
    render,
    with_odata_id,
)
from graph_emulator.model.directory import Entry
from graph_emulator.model.kinds import KINDS
from graph_emulator.odata import query as odata
from graph_emulator.odata.query import EXPAND_LIMIT, Query
from graph_emulator.protocol import GraphError, GraphResponse, not_found

EXPANDABLE: dict[str, dict[str, str]] = {
    # kind -> navigation property -> relation, or "reverse:<relation>" for inbound links
    "users": {"manager": "manager", "directReports": "reverse:manager",
              "memberOf": "reverse:members", "ownedObjects": "reverse:owners",
              "registeredDevices": "reverse:registeredUsers",
              "ownedDevices": "reverse:registeredOwners",
              "transitiveMemberOf": "transitive-reverse:members"},
    "groups": {"members": "members", "owners": "owners", "memberOf": "reverse:members",
               "transitiveMembers": "transitive:members",
               "transitiveMemberOf": "transitive-reverse:members"},
    "applications": {"owners": "owners"},
    "servicePrincipals": {"owners": "owners", "memberOf": "reverse:members"},
    "devices": {"registeredOwners": "registeredOwners", "registeredUsers": "registeredUsers",
                "memberOf": "reverse:members"},
    "directoryRoles": {"members": "members"},
    "administrativeUnits": {"members": "members"},
    "roleAssignments": {"principal": "property:principalId",
                        "roleDefinition": "property:roleDefinitionId"},
}


SINGLE_VALUED_NAVIGATIONS = frozenset({"manager", "principal", "roleDefinition"})


def related_ids(ctx: Context, entry: Entry, navigation: str) -> list[str]:
    """Ids an object reaches through a navigation property, live objects only."""
    relation = EXPANDABLE.get(entry.kind, {}).get(navigation)
    if relation is None:
        raise GraphError(400, "BadRequest",
                         f"Could not find a property named '{navigation}' on type "
                         f"'{KINDS[entry.kind].odata_type}'.")
    if relation.startswith("property:"):
        target = entry.data.get(relation.split(":", 1)[1])
        return [str(target)] if isinstance(target, str) and target in ctx.directory.live else []
    if relation.startswith("transitive"):
        return _transitive(ctx, entry.id, relation.split(":", 1)[1],
                           reverse=relation.startswith("transitive-reverse"))
    if relation.startswith("reverse:"):
        sources = ctx.directory.sources(relation.split(":", 1)[1], entry.id)
        return [s for s in sources if s in ctx.directory.live]
    return ctx.directory.targets(relation, entry.id)


def _transitive(ctx: Context, start: str, relation: str, *, reverse: bool) -> list[str]:
    """Every object reached through nested links, each once, breadth first."""
    step = ctx.directory.sources if reverse else ctx.directory.targets
    seen: dict[str, None] = {}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for other in step(relation, node):
                if other != start and other not in seen and other in ctx.directory.live:
                    seen[other] = None
                    following.append(other)
        frontier = following
    return list(seen)


def _expand(ctx: Context, entry: Entry, body: dict[str, Any], expand: list[str]) -> None:
    for navigation in expand:
        name = navigation.split("(")[0]
        ids = related_ids(ctx, entry, name)
        limit = 100 if name == "registeredDevices" else EXPAND_LIMIT
        rendered = [render(ctx.directory.live[i], None, typed=True) for i in ids[:limit]]
        if name in SINGLE_VALUED_NAVIGATIONS:
            body[name] = rendered[0] if rendered else None
        else:
            body[name] = rendered


def _matching(ctx: Context, kind: str, query: Query, after: str | None) -> Iterator[Entry]:
    predicate = query.filter.predicate if query.filter else None
    search = _search_predicate(query.search) if query.search else None
    for entry in ctx.directory.entries(kind, after):
        if predicate is not None and not predicate(entry.data):
            continue
        if search is not None and not search(entry.data):
            continue
        yield entry


def _search_predicate(raw: str) -> Any:
    terms: list[tuple[str, str]] = []
    for clause in raw.replace(" OR ", "\n").replace(" or ", "\n").split("\n"):
        text = clause.strip().strip('"')
        if ":" not in text:
            raise GraphError(400, "Request_UnsupportedQuery",
                             "Syntax error: expected a property name in $search.")
        prop, value = text.split(":", 1)
        terms.append((prop.strip(), value.strip().lower()))

    def check(data: dict[str, Any]) -> bool:
        for prop, value in terms:
            field = data.get(prop)
            if isinstance(field, str) and any(w.startswith(value) for w in field.lower().split()):
                return True
        return False

    return check


def list_kind(ctx: Context, kind: str) -> GraphResponse:
    """``GET`` a collection, one page at a time."""
    spec = KINDS[kind]
    query = odata.parse(ctx.request, kind, max_top=spec.max_top)
    after = None
    if query.skiptoken:
        after = str(odata.decode_token(query.skiptoken).get("after", "")) or None
    size = query.page_size(spec.default_top) if spec.paged else 1 << 30
    items: list[dict[str, Any]] = []
    last: str | None = None
    more = False
    matches = _matching(ctx, kind, query, after)
    if query.orderby:
        matches = iter(sorted(matches, key=lambda e: str(e.data.get(query.orderby.split()[0], "")
                                                         if query.orderby else "").lower()))
    for entry in matches:
        if len(items) == size:
            more = True
            break
        body = render(entry, query.select)
        if query.expand:
            _expand(ctx, entry, body, query.expand)
        if kind in ODATA_ID_KINDS:
            body = with_odata_id(ctx.request, ctx.tenant.tenant_id, entry, body)
        items.append(body)
        last = entry.id
    count = None
    if query.count and not query.skiptoken:
        count = sum(1 for _ in _matching(ctx, kind, query, None))
    following = next_link(ctx.request, **{"$skiptoken": odata.encode_token({"after": last})}) \
        if more and last and not query.orderby else None
    context = context_url(ctx.request, kind, query.select)
    return GraphResponse(200, page(ctx.request, context, items, next_url=following, count=count))


def count_kind(ctx: Context, kind: str) -> GraphResponse:
    """``GET /{collection}/$count``: a plain number, advanced query only."""
    query = odata.parse(ctx.request, kind)
    if not query.eventual:
        raise GraphError(400, "Request_BadRequest",
                         "$count is not currently supported.")
    number = sum(1 for _ in _matching(ctx, kind, query, None))
    return GraphResponse(200, number, {"content-type": "text/plain"})


def get_entry(ctx: Context, kind: str, object_id: str) -> Entry:
    """A live object of ``kind`` or Graph's 404."""
    entry = ctx.directory.get(object_id, kind)
    if entry is None:
        raise not_found(object_id)
    return entry


def get_one(ctx: Context, kind: str) -> GraphResponse:
    """``GET`` one object by id."""
    entry = get_entry(ctx, kind, ctx.params["id"])
    query = odata.parse(ctx.request, kind)
    body = render(entry, query.select)
    if query.expand:
        _expand(ctx, entry, body, query.expand)
    if kind in ODATA_ID_KINDS:
        body = with_odata_id(ctx.request, ctx.tenant.tenant_id, entry, body)
    fragment = f"{kind}/$entity"
    return GraphResponse(200, {"@odata.context": context_url(ctx.request, fragment,
                                                             query.select), **body})


def get_singleton(ctx: Context, kind: str) -> GraphResponse:
    """``GET`` a singleton such as ``/policies/authorizationPolicy``."""
    entry = next(ctx.directory.entries(kind), None)
    if entry is None:
        raise not_found(kind)
    query = odata.parse(ctx.request, kind)
    body = render(entry, query.select)
    path = KINDS[kind].path.strip("/")
    return GraphResponse(200, {"@odata.context": context_url(ctx.request, f"{path}/$entity"),
                               **body})

