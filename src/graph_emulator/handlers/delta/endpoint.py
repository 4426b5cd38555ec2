"""The ``GET {collection}/delta`` handler: rounds, links, expiry and resets."""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import replace
from urllib.parse import quote, urlencode

from graph_emulator.context import Context
from graph_emulator.handlers.render import context_url
from graph_emulator.model.kinds import KINDS
from graph_emulator.protocol import GraphError, GraphResponse

from .changes import make_plan
from .pages import Candidates, PageResult, Position, fill_page
from .request import DeltaQuery, read_query
from .state import DeltaState, delta_state
from .tokens import CHANGES, DELTA, INITIAL, TokenState, sign

_CACHE_LIMIT = 64


def serve_delta(ctx: Context, kind: str) -> GraphResponse:
    """Answer one delta call: a page of round 1, a page of changes, or a fresh deltaLink."""
    settings = delta_state(ctx.emulator)
    query = read_query(ctx.request, kind, ctx.tenant.tenant_id)
    if query.token is not None:
        _check_fresh(ctx, settings, query.token)
    current = _round(ctx, settings, kind, query)
    minimal = query.minimal and current.phase == CHANGES
    plan = make_plan(kind, current.select, current.since, minimal)
    if query.latest:
        return _respond(ctx, query, current, PageResult(), minimal=False)
    start = Position(current.cursor, current.partial, current.replays)
    seed = f"{settings.seed}|{ctx.tenant.tenant_id}|{kind}|{current.since}|" \
           f"{current.upto}|{current.cursor}|{current.partial}"
    result = fill_page(ctx.directory, plan, _candidates(ctx, settings, current), start,
                       settings=settings, seed=seed)
    return _respond(ctx, query, current, result, minimal=minimal)


def _round(ctx: Context, settings: DeltaState, kind: str, query: DeltaQuery) -> TokenState:
    """The state of the page being asked for."""
    token = query.token
    if token is not None and token.phase != DELTA:
        return token
    generation = settings.generation(ctx.tenant.tenant_id)
    now = ctx.clock.now()
    seq = ctx.directory.seq
    if token is None:
        return TokenState(INITIAL, kind, query.select, query.ids, generation, now, upto=seq)
    select = query.select if query.select is not None else token.select
    return TokenState(CHANGES, kind, select, token.ids, generation, now, since=token.since,
                      upto=seq)


def _check_fresh(ctx: Context, settings: DeltaState, token: TokenState) -> None:
    """Refuse a token the service would no longer honour, pointing to a fresh round."""
    if token.generation < settings.generation(ctx.tenant.tenant_id) \
            or max(token.since or 0, token.upto) > ctx.directory.seq:
        raise _gone(ctx, token, "resyncRequired",
                    "The delta token is no longer valid; restart with a full synchronization.")
    if ctx.clock.now() - token.issued > settings.token_lifetime:
        raise _gone(ctx, token, "syncStateNotFound",
                    "The sync state generation is not found. The delta token is expired and "
                    "data must be synchronized again.")


def _gone(ctx: Context, token: TokenState, code: str, message: str) -> GraphError:
    # delta-query-overview, "Synchronization reset": 410 with a Location holding the
    # initial query and an empty $deltaToken.
    options: dict[str, str] = {}
    if token.select is not None:
        options["$select"] = ",".join(token.select)
    if token.ids is not None:
        options["$filter"] = " or ".join(f"id eq '{i}'" for i in token.ids)
    options["$deltatoken"] = ""
    location = f"{_delta_url(ctx, token.kind)}?{urlencode(options, quote_via=quote, safe='$,')}"
    return GraphError(410, code, message, headers={"Location": location})


def _delta_url(ctx: Context, kind: str) -> str:
    return f"{ctx.request.base_url}{KINDS[kind].path}/delta"


def _candidates(ctx: Context, settings: DeltaState, current: TokenState) -> Candidates:
    directory = ctx.directory
    if current.since is None:
        if current.ids is None:
            return lambda after: directory.ids(current.kind, after)
        return _after(sorted(current.ids))
    changed = _changed(ctx, settings, current.kind, current.since)
    if current.ids is not None:
        wanted = set(current.ids)
        changed = [object_id for object_id in changed if object_id in wanted]
    return _after(changed)


def _after(ordered: list[str]) -> Candidates:
    def candidates(after: str | None) -> Iterator[str]:
        start = 0 if after is None else bisect.bisect_right(ordered, after)
        yield from ordered[start:]

    return candidates


def _changed(ctx: Context, settings: DeltaState, kind: str, since: int) -> list[str]:
    """Ids changed after ``since`` in id order, cached while the directory stands still."""
    key = (ctx.tenant.tenant_id, kind, since)
    cached = settings.changed_cache.get(key)
    if cached is not None and cached[0] == ctx.directory.seq:
        return cached[1]
    if len(settings.changed_cache) >= _CACHE_LIMIT:
        settings.changed_cache.clear()
    ordered = sorted(set(ctx.directory.changed(kind, since)))
    settings.changed_cache[key] = (ctx.directory.seq, ordered)
    return ordered


def _respond(ctx: Context, query: DeltaQuery, current: TokenState, result: PageResult,
             *, minimal: bool) -> GraphResponse:
    tenant_id = ctx.tenant.tenant_id
    selected = list(query.select) if query.select is not None else None
    body: dict[str, object] = {"@odata.context": context_url(ctx.request, current.kind,
                                                             selected)}
    if result.more:
        following = replace(current, cursor=result.cursor, partial=result.partial,
                            replays=result.replays)
        body["@odata.nextLink"] = f"{_delta_url(ctx, current.kind)}?$skiptoken=" \
                                  f"{sign(tenant_id, following)}"
    else:
        upcoming = TokenState(DELTA, current.kind, current.select, current.ids,
                              current.generation, ctx.clock.now(), since=current.upto,
                              upto=current.upto)
        body["@odata.deltaLink"] = f"{_delta_url(ctx, current.kind)}?$deltatoken=" \
                                   f"{sign(tenant_id, upcoming)}"
    body["value"] = result.items
    headers = {"Preference-Applied": "return=minimal"} if minimal else {}
    return GraphResponse(200, body, headers)
