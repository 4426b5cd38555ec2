"""Reading a delta call's query options: what Graph's directory delta accepts and refuses.

Accepted: ``$select``, ``$filter`` limited to up to 50 ``id eq '...'`` clauses joined by
``or``, ``$skiptoken`` and ``$deltatoken`` (``latest`` for "from now", empty for a fresh
round). ``$top``, ``$expand``, ``$orderby`` and the advanced-query options are refused
(delta-query-overview, "Optional query parameters"; user-delta, group-delta).
"""

from __future__ import annotations

from dataclasses import dataclass

from graph_emulator.model import schema
from graph_emulator.model.kinds import KINDS
from graph_emulator.odata.filter import compile_filter
from graph_emulator.protocol import GraphError, GraphRequest, unsupported_query

from .tokens import DELTA, TokenState, invalid_token, verify

MAX_FILTER_IDS = 50
REFUSED = ("$top", "$expand", "$orderby", "$count", "$search", "$skip")


@dataclass(frozen=True)
class DeltaQuery:
    """A delta call's options, checked, with the token it carries (if any)."""

    select: tuple[str, ...] | None
    """``$select`` as written in this request (None if absent)."""
    ids: tuple[str, ...] | None
    token: TokenState | None
    latest: bool = False
    minimal: bool = False


def read_query(request: GraphRequest, kind: str, tenant_id: str) -> DeltaQuery:
    """Check a delta call's options for ``kind`` and decode its token."""
    options = {k.lower(): v for k, v in request.query.items() if k.startswith("$")}
    for name in REFUSED:
        if name in options:
            raise unsupported_query(f"The query parameter '{name}' is not supported with "
                                    "change tracking over the '"
                                    f"{schema.type_name(kind)}' resource.")
    select = _select(options["$select"], kind) if "$select" in options else None
    ids = _ids(options["$filter"]) if "$filter" in options else None
    skip = options.get("$skiptoken")
    delta = options.get("$deltatoken")
    if skip is not None and delta is not None:
        raise invalid_token()
    minimal = "return=minimal" in (request.header("Prefer") or "").replace(" ", "").lower()
    if delta is not None and delta.lower() == "latest":
        return DeltaQuery(select, ids, None, latest=True, minimal=minimal)
    raw = skip if skip is not None else (delta or None)
    token = verify(tenant_id, raw) if raw is not None else None
    if token is not None:
        _check_token(token, kind, skip is not None, select, ids)
    return DeltaQuery(select, ids, token, minimal=minimal)


def _check_token(token: TokenState, kind: str, is_skip: bool,
                 select: tuple[str, ...] | None, ids: tuple[str, ...] | None) -> None:
    if token.kind != kind or (token.phase == DELTA) == is_skip:
        raise invalid_token()
    if select is not None and is_skip:
        # delta-query-overview: $select together with $skipToken is not supported.
        raise unsupported_query("$select cannot be combined with $skiptoken; the skip "
                                "token already carries the round's $select.")
    if select is not None and token.select is not None and not set(select) <= set(token.select):
        raise unsupported_query("$select on a deltaLink may only narrow the tracked "
                                "properties; start a new round to track more.")
    if ids is not None and set(ids) != set(token.ids or ()):
        raise unsupported_query("$filter cannot change within a round of change tracking; "
                                "start a new round to track other objects.")


def _select(raw: str, kind: str) -> tuple[str, ...]:
    names = [part.strip() for part in raw.split(",") if part.strip()]
    allowed = schema.selectable(kind)
    for name in names:
        if name not in allowed:
            raise GraphError(400, "BadRequest", f"Could not find a property named '{name}' "
                             f"on type '{KINDS[kind].odata_type}'.")
    if "id" not in names:
        names.append("id")
    return tuple(dict.fromkeys(names))


def _ids(raw: str) -> tuple[str, ...]:
    compiled = compile_filter(raw)
    if compiled.id_values is None:
        raise unsupported_query("Change tracking supports $filter only on object ids: "
                                "id eq '<id>' clauses joined by 'or'.")
    if len(compiled.id_values) > MAX_FILTER_IDS:
        raise unsupported_query(f"Change tracking $filter accepts at most {MAX_FILTER_IDS} "
                                "ids.")
    return tuple(dict.fromkeys(compiled.id_values))
