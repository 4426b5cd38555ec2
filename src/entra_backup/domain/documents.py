"""The stored form of a Graph object: what the backup keeps and restore, diff and export read.

A stored document is the object exactly as Graph returned it for the type's ``$select``
(unknown properties kept), without the delta protocol's annotations, plus each captured
relationship as the navigation property Graph would ``$expand``: a multi-valued one is a
list sorted by id (``{"@odata.type", "id"}`` references, or whole entities such as app
role assignments), a single-valued one (``manager``) an object or ``null``. The result is
plain Graph JSON, usable without this product.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from entra_backup.domain.object_types import Capture, ObjectType

DELTA_SUFFIX = "@delta"
REMOVED = "@removed"
_DROPPED = frozenset({"@odata.context", "@odata.nextLink", "@odata.deltaLink", REMOVED})
REFERENCE_KEYS = ("@odata.type", "id")


def properties_of(item: Mapping[str, Any]) -> dict[str, Any]:
    """The object's properties: everything but delta annotations and paging metadata."""
    return {name: value for name, value in item.items()
            if name not in _DROPPED and not name.endswith(DELTA_SUFFIX)}


def reference(entry: Mapping[str, Any]) -> dict[str, Any]:
    """A directory-object reference as Graph lists it: its type and id."""
    return {key: entry[key] for key in REFERENCE_KEYS if key in entry}


def sorted_edges(entries: Iterable[Mapping[str, Any]], *, entities: bool = False
                 ) -> list[dict[str, Any]]:
    """Edges sorted by id, each once; references trimmed to type and id."""
    by_id: dict[str, dict[str, Any]] = {}
    for entry in entries:
        edge_id = entry.get("id")
        if isinstance(edge_id, str) and not isinstance(entry.get(REMOVED), dict):
            by_id[edge_id] = dict(entry) if entities else reference(entry)
    return [by_id[key] for key in sorted(by_id)]


def apply_edge_delta(previous: Iterable[Mapping[str, Any]],
                     entries: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The edges after a ``<relation>@delta`` list: removals drop, additions join."""
    edges = {str(edge["id"]): reference(edge) for edge in previous if "id" in edge}
    for entry in entries:
        edge_id = entry.get("id")
        if not isinstance(edge_id, str):
            continue
        if isinstance(entry.get(REMOVED), dict):
            edges.pop(edge_id, None)
        else:
            edges[edge_id] = reference(entry)
    return [edges[key] for key in sorted(edges)]


def single_edge(edges: list[dict[str, Any]]) -> dict[str, Any] | None:
    """A single-valued relationship from its edge list (Graph sends ``manager@delta`` as a
    list: the old manager removed, the new one added)."""
    return edges[-1] if edges else None


def as_edge_list(value: Any) -> list[dict[str, Any]]:
    """A stored relationship value as a list of edges (single-valued ones hold 0 or 1)."""
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [edge for edge in value if isinstance(edge, dict)]
    return []


def delta_relationships(object_type: ObjectType, item: Mapping[str, Any],
                        previous: Mapping[str, Any] | None) -> dict[str, Any]:
    """The relationships a delta item carries as ``<name>@delta``, as stored values.

    The annotations are applied to ``previous`` (the stored document of an earlier
    snapshot, or None in a first round, where they are the complete lists); a missing
    annotation means the relationship did not change.
    """
    values: dict[str, Any] = {}
    for relationship in object_type.relationships:
        if relationship.capture is not Capture.DELTA_ANNOTATION:
            continue
        annotation = item.get(relationship.name + DELTA_SUFFIX)
        edges = [] if previous is None else as_edge_list(previous.get(relationship.name))
        if isinstance(annotation, list):
            edges = apply_edge_delta(edges, annotation)
        values[relationship.name] = single_edge(edges) if relationship.single_valued else edges
    return values


def relationship_names(object_type: ObjectType) -> frozenset[str]:
    """The document keys that hold relationships."""
    return frozenset(relationship.name for relationship in object_type.relationships)


def without_relationships(object_type: ObjectType,
                          document: Mapping[str, Any]) -> dict[str, Any]:
    """The document's own properties only."""
    names = relationship_names(object_type)
    return {key: value for key, value in document.items() if key not in names}
