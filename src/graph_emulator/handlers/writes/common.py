"""What every write handler shares: the responses, clock stamps and object creation."""

from __future__ import annotations

from typing import Any

from graph_emulator.clock import iso
from graph_emulator.context import Context
from graph_emulator.handlers.render import context_url, render
from graph_emulator.model.directory import Entry
from graph_emulator.model.kinds import KINDS
from graph_emulator.protocol import GraphResponse

from .state import write_state


def now_iso(ctx: Context) -> str:
    """The emulator clock's time as Graph writes timestamps."""
    return iso(ctx.clock.now())


def entity_fragment(kind: str) -> str:
    """The ``$metadata#...`` fragment of one object of ``kind``."""
    spec = KINDS[kind]
    if "{id}" in spec.path:
        return f"{kind}/$entity"
    return spec.path.strip("/") + "/$entity"


def created(ctx: Context, entry: Entry, fragment: str | None = None) -> GraphResponse:
    """``201 Created`` with the new object, as Graph answers a POST."""
    body = render(entry, None)
    context = context_url(ctx.request, fragment or entity_fragment(entry.kind))
    return GraphResponse(201, {"@odata.context": context, **body})


def no_content() -> GraphResponse:
    """``204 No Content``, Graph's answer to PATCH, DELETE and ``$ref`` writes."""
    return GraphResponse(204)


def add_object(ctx: Context, kind: str, data: dict[str, Any]) -> Entry:
    """Add a new object and remember when it was created (for the replication lag)."""
    entry = ctx.directory.add(kind, data)
    write_state(ctx.emulator).created_at[(ctx.tenant.tenant_id, entry.id)] = ctx.clock.now()
    return entry


def body_of(ctx: Context) -> dict[str, Any]:
    """The request body as a JSON object (Graph's 400 otherwise)."""
    return ctx.request.json_object()
