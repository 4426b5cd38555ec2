"""Resolve a Graph path through the CSDL to the type it addresses.

The endpoint list leaves out bound actions (``/directory/deletedItems/{id}/restore``) and
single-reference ``$ref`` deletes. ``bound_operation`` answers whether the last segment of a
path is an action or function that the CSDL binds to the type the rest of the path
addresses, so such routes are checked against the schema instead.
"""

from __future__ import annotations

from tests.fidelity.oracle.csdl import BoundOperation, TypeRef
from tests.fidelity.oracle.endpoints import split_path
from tests.fidelity.oracle.schema import Schema, UnknownType

_TERMINAL = frozenset({"$ref", "$count", "$value"})


def resolve(schema: Schema, path: str) -> TypeRef | None:
    """The type a path addresses (``/users/{id}/manager`` -> directoryObject), or None."""
    segments = split_path(path)
    if not segments:
        return None
    current = schema.csdl.roots.get(segments[0].partition("(")[0])
    if current is not None and "(" in segments[0]:
        current = TypeRef(current.name, False, False)
    for segment in segments[1:]:
        if current is None:
            return None
        current = _step(schema, current, segment)
    return current


def _step(schema: Schema, current: TypeRef, segment: str) -> TypeRef | None:
    if segment in _TERMINAL:
        return current
    if current.collection and (segment.startswith("{") or "." not in segment):
        if _is_member(schema, current.name, segment):
            return None
        return TypeRef(current.name, False, False)
    if "." in segment:
        return _cast(schema, current, segment)
    properties, navigation = schema.members(current.name)
    return navigation.get(segment) or properties.get(segment)


def _is_member(schema: Schema, type_name: str, segment: str) -> bool:
    properties, navigation = schema.members(type_name)
    return segment in properties or segment in navigation or segment in schema.csdl.operations


def _cast(schema: Schema, current: TypeRef, segment: str) -> TypeRef | None:
    try:
        named = schema.full_name(segment)
    except UnknownType:
        return None
    if named in schema.csdl.types and schema.is_subtype(named, current.name):
        return TypeRef(named, current.collection, False)
    return None


def bound_operation(schema: Schema, path: str) -> BoundOperation | None:
    """The operation named by the last segment, if the CSDL binds it to the path before it."""
    segments = split_path(path)
    if len(segments) < 2:
        return None
    name = segments[-1].partition("(")[0]
    for prefix in ("microsoft.graph.", "graph."):
        name = name.removeprefix(prefix)
    target = resolve(schema, "/" + "/".join(segments[:-1]))
    if target is None or target.name not in schema.csdl.types:
        return None
    for operation in schema.csdl.operations.get(name, []):
        binding = operation.binding
        if (binding.collection == target.collection and binding.name in schema.csdl.types
                and schema.is_subtype(target.name, binding.name)):
            return operation
    return None
