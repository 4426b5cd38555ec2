"""Parsing and validating OData query options for directory collections."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

import orjson

from graph_emulator.model import schema
from graph_emulator.model.kinds import KINDS
from graph_emulator.odata.filter import CompiledFilter, compile_filter, require_supported
from graph_emulator.protocol import GraphError, GraphRequest, bad_request, unsupported_query

KNOWN_OPTIONS = frozenset({
    "$select", "$top", "$filter", "$count", "$expand", "$skiptoken", "$orderby", "$search",
    "$deltatoken", "$skip", "$format",
})
EXPAND_LIMIT = 20
EXPAND_PAGE_CAP = 100


@dataclass
class Query:
    """The OData options of one request, validated for a kind."""

    select: list[str] | None = None
    top: int | None = None
    filter: CompiledFilter | None = None
    count: bool = False
    expand: list[str] = field(default_factory=list)
    skiptoken: str | None = None
    orderby: str | None = None
    search: str | None = None
    eventual: bool = False

    def page_size(self, default: int) -> int:
        size = self.top if self.top is not None else default
        if self.expand:
            size = min(size, EXPAND_PAGE_CAP)
        return size


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _parse_top(raw: str, max_top: int) -> int:
    try:
        top = int(raw)
    except ValueError as exc:
        raise GraphError(400, "BadRequest", f"Invalid value '{raw}' for $top query option "
                         "found. The $top query option requires a non-negative integer value.") \
            from exc
    if top < 1 or top > max_top:
        raise bad_request(
            f"Invalid page size specified: '{top}'. Must be between 1 and {max_top} inclusive.",
            code="Request_UnsupportedQuery" if top > max_top else "Request_BadRequest",
        )
    return top


def parse(request: GraphRequest, kind: str, *, max_top: int = 999) -> Query:
    """Read and check the query options Graph's directory accepts for ``kind``."""
    options = {k.lower(): v for k, v in request.query.items() if k.startswith("$")}
    for name in options:
        if name not in KNOWN_OPTIONS:
            raise GraphError(400, "BadRequest", f"Query option '{name}' is not supported.")
    query = Query(eventual=(request.header("ConsistencyLevel") or "").lower() == "eventual")
    if "$select" in options:
        query.select = _select(options["$select"], kind)
    if "$top" in options:
        # Reading signInActivity caps the page at 500 (user-list, "signInActivity").
        uses_sign_ins = "signinactivity" in (options.get("$select", "") +
                                             options.get("$filter", "")).lower()
        query.top = _parse_top(options["$top"], min(max_top, 500) if uses_sign_ins else max_top)
    if "$skip" in options:
        raise unsupported_query("'$skip' is not supported by the service.")
    if "$count" in options:
        query.count = options["$count"].lower() == "true"
        if query.count and not query.eventual:
            raise bad_request("$count is not currently supported.")
    if "$expand" in options:
        query.expand = _split(options["$expand"])
        if query.eventual:
            raise unsupported_query("$expand is not supported on advanced queries.")
    if "$filter" in options:
        query.filter = compile_filter(options["$filter"])
        require_supported(query.filter, schema.filterable(kind), schema.type_name(kind))
        if query.filter.advanced and not (query.eventual and query.count):
            operator = sorted(query.filter.advanced)[0]
            raise unsupported_query(
                f"Operator '{operator}' is not supported because the required parameters "
                "might be missing. Try adding $count=true query parameter and "
                "ConsistencyLevel:eventual header. Refer to "
                "https://aka.ms/graph-docs/advanced-queries for more information"
            )
    if "$search" in options:
        if not query.eventual:
            raise bad_request("Request with $search query parameter only works through "
                              "MSGraph with a special request header: 'ConsistencyLevel: "
                              "eventual'", code="Request_UnsupportedQuery")
        query.search = options["$search"]
    if "$orderby" in options:
        query.orderby = options["$orderby"]
        if query.orderby.split()[0] not in ("displayName", "userPrincipalName"):
            raise unsupported_query("Sorting not supported for current query.")
    query.skiptoken = options.get("$skiptoken")
    return query


def _select(raw: str, kind: str) -> list[str]:
    # Graph matches $select names without regard to case and answers with the schema's
    # spelling ($select=DisplayName gives displayName).
    allowed = {name.lower(): name for name in schema.selectable(kind)}
    names: list[str] = []
    for name in _split(raw):
        bare = name.split("/")[-1]
        if bare.lower() not in allowed:
            raise GraphError(
                400, "BadRequest",
                f"Could not find a property named '{bare}' on type "
                f"'{KINDS[kind].odata_type}'.",
            )
        names.append(allowed[bare.lower()])
    if "id" not in names:
        names.append("id")
    return names


def encode_token(state: dict[str, Any]) -> str:
    """An opaque, URL-safe paging or delta token."""
    return base64.urlsafe_b64encode(orjson.dumps(state)).decode().rstrip("=")


def decode_token(token: str) -> dict[str, Any]:
    """Read a token made by :func:`encode_token`; Graph's 400 if it is not one."""
    try:
        padded = token + "=" * (-len(token) % 4)
        value = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, orjson.JSONDecodeError) as exc:
        raise bad_request("Invalid skip token or delta token.", "Request_BadRequest") from exc
    if not isinstance(value, dict):
        raise bad_request("Invalid skip token or delta token.", "Request_BadRequest")
    return value
