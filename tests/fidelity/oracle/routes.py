"""Why a route the emulator serves is a real Graph v1.0 route."""

from __future__ import annotations

from tests.fidelity.oracle.endpoints import route_exists, split_path
from tests.fidelity.oracle.paths import bound_operation
from tests.fidelity.oracle.schema import load_schema

BATCH = "JSON batching endpoint /$batch (OData protocol, graph-facts.md section 3)"


def route_basis(method: str, path: str, template: bool = True) -> str | None:
    """The evidence that ``method path`` exists in Graph v1.0, or None when there is none.

    In order: the endpoint list; ``/$batch``; deleting one reference of a listed
    ``{nav}/$ref`` collection; an action or function the CSDL binds to the addressed type.
    ``path`` is a route template (``{id}`` for ids) unless ``template`` is false.
    """
    if route_exists(path, template):
        return "endpoint list"
    segments = split_path(path)
    if segments == ["$batch"]:
        return BATCH if method == "POST" else None
    if (method == "DELETE" and len(segments) >= 3 and segments[-1] == "$ref"
            and route_exists("/" + "/".join([*segments[:-2], "$ref"]), template)):
        return "OData reference delete below a listed {nav}/$ref"
    operation = bound_operation(load_schema(), path)
    if operation is None:
        return None
    kind = "action" if operation.action else "function"
    if operation.action != (method == "POST"):
        return None
    return f"CSDL {kind} {operation.name} bound to {operation.binding}"
