"""What changed in one directory object between two stored versions.

A stored document is the Graph object as ``$select`` returned it, plus each captured
relationship as a navigation property named as in Graph. The diff separates the two
because an administrator reads them differently: properties are values ("the display name
was X, is Y"), relationships are sets of edges ("alice joined, bob left"). So
relationships are matched edge by edge on ``id`` instead of being compared as whole lists,
and they are never reported as attributes.

Values are compared by their canonical JSON (:mod:`entra_backup.domain.canonical`), not
with Python's ``==``: ``True == 1 == 1.0`` in Python, but a stored document holding
``true`` differs from one holding ``1``, and the diff must agree with the content hashes
the repository keeps. A diff is therefore empty exactly when the two documents have the
same canonical bytes (relationship order and absent-versus-empty aside, which the stored
format fixes).

Everything here is pure and deterministic: the same two documents always give the same,
identically ordered result, so diffs can be compared, cached and rendered stably.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from entra_backup.domain.canonical import canonical_bytes
from entra_backup.domain.errors import EntraBackupError
from entra_backup.domain.object_types import Relationship, by_name, names

__all__ = [
    "AttributeChange",
    "AttributeKind",
    "MalformedDocument",
    "ObjectDiff",
    "ObjectStatus",
    "RelationshipChange",
    "count_changes",
    "diff_documents",
]

AttributeKind: TypeAlias = Literal["added", "removed", "changed"]
ObjectStatus: TypeAlias = Literal["added", "removed", "modified", "unchanged"]

_COUNTED: tuple[ObjectStatus, ...] = ("added", "removed", "modified")
_Path: TypeAlias = tuple[str, ...]


class MalformedDocument(EntraBackupError):
    """A stored relationship does not have the shape the backup writes.

    Edges are matched by ``id``, so an edge without a string id, or two edges with the
    same id, cannot be diffed without guessing; guessing would hide corruption.
    """


@dataclass(frozen=True, slots=True)
class AttributeChange:
    """One changed property, or one changed leaf of a nested JSON object.

    ``name`` is the dotted path to the leaf (``passwordProfile.forceChangePasswordNextSignIn``).
    Lists are leaves: their elements have no stable identity to name a path by. ``kind``
    tells a property that appeared or disappeared from one that is now ``null``, which
    ``before``/``after`` alone cannot (both would be ``None``).
    """

    name: str
    before: Any
    after: Any
    kind: AttributeKind = "changed"


@dataclass(frozen=True, slots=True)
class RelationshipChange:
    """The edges of one relationship that were added, removed or changed.

    ``changed`` holds ``(before, after)`` for edges with the same id but different
    content: app role assignments and scoped role memberships are entities whose
    properties can change while the id stays.
    """

    name: str
    added: tuple[dict[str, Any], ...] = ()
    removed: tuple[dict[str, Any], ...] = ()
    changed: tuple[tuple[dict[str, Any], dict[str, Any]], ...] = ()

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable form with stable key names, for reports and the API."""
        return {
            "name": self.name,
            "added": list(self.added),
            "removed": list(self.removed),
            "changed": [{"before": b, "after": a} for b, a in self.changed],
        }


@dataclass(frozen=True, slots=True)
class ObjectDiff:
    """Everything that differs in one object between two versions."""

    type: str
    object_id: str
    status: ObjectStatus
    attributes: tuple[AttributeChange, ...] = ()
    relationships: tuple[RelationshipChange, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether there is anything to report about the object."""
        return self.status != "unchanged"

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable form with stable key names, for reports and the API."""
        return {
            "type": self.type,
            "id": self.object_id,
            "status": self.status,
            "attributes": [
                {"name": c.name, "kind": c.kind, "before": c.before, "after": c.after}
                for c in self.attributes
            ],
            "relationships": [r.to_json() for r in self.relationships],
        }


def diff_documents(
    type_name: str,
    object_id: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    *,
    include_relationships: bool = True,
    ignore: Collection[str] = (),
) -> ObjectDiff:
    """Compare two stored versions of one object.

    ``before=None`` means the object was added and ``after=None`` that it was removed; the
    diff then lists every property and every edge, so a report shows what appeared or
    what a restore would bring back. ``ignore`` names top-level properties (attributes or
    relationships) to leave out, such as computed ones that change on every read.
    Raises ``UnknownObjectType`` for a type the product does not back up, and
    :class:`MalformedDocument` for a relationship not in the stored shape.
    """
    object_type = by_name(type_name)
    if before is None and after is None:
        raise ValueError("diff_documents needs at least one version of the object")
    old: Mapping[str, Any] = before if before is not None else {}
    new: Mapping[str, Any] = after if after is not None else {}
    relationships = object_type.relationships
    skip = {r.name for r in relationships} | set(ignore)
    attributes = _attribute_changes(old, new, skip)
    edges: list[RelationshipChange] = []
    for rel in relationships if include_relationships else ():
        if rel.name in ignore:
            continue
        change = _relationship_change(type_name, object_id, rel, old, new)
        if change is not None:
            edges.append(change)
    status: ObjectStatus
    if before is None:
        status = "added"
    elif after is None:
        status = "removed"
    else:
        status = "modified" if attributes or edges else "unchanged"
    return ObjectDiff(type_name, object_id, status, attributes, tuple(edges))


def count_changes(diffs: Iterable[ObjectDiff]) -> dict[str, dict[str, int]]:
    """Per type, how many objects were added, removed and modified.

    Unchanged objects are not counted, but their type still gets a row of zeros, so a
    summary shows that the type was compared and found unchanged. Types come in table
    order (then by name for any the table does not know), the order reports use.
    """
    counts: dict[str, dict[str, int]] = {}
    for diff in diffs:
        row = counts.setdefault(diff.type, dict.fromkeys(_COUNTED, 0))
        if diff.status != "unchanged":
            row[diff.status] += 1
    order = {name: index for index, name in enumerate(names())}
    ranked = sorted(counts, key=lambda name: (order.get(name, len(order)), name))
    return {name: counts[name] for name in ranked}


def _attribute_changes(
    before: Mapping[str, Any], after: Mapping[str, Any], skip: Collection[str]
) -> tuple[AttributeChange, ...]:
    """Leaf changes of two JSON objects, descending into nested objects only.

    Iterative rather than recursive so that a deeply nested document cannot exhaust the
    interpreter's stack.
    """
    found: list[tuple[_Path, AttributeChange]] = []
    pending: list[tuple[_Path, Mapping[str, Any], Mapping[str, Any]]] = [((), before, after)]
    while pending:
        path, old, new = pending.pop()
        for key in old.keys() | new.keys():
            if not path and key in skip:
                continue
            sub = (*path, key)
            name = ".".join(sub)
            if key not in new:
                found.append((sub, AttributeChange(name, old[key], None, "removed")))
            elif key not in old:
                found.append((sub, AttributeChange(name, None, new[key], "added")))
            elif isinstance(old[key], Mapping) and isinstance(new[key], Mapping):
                pending.append((sub, old[key], new[key]))
            elif canonical_bytes(old[key]) != canonical_bytes(new[key]):
                found.append((sub, AttributeChange(name, old[key], new[key], "changed")))
    found.sort(key=lambda item: (item[1].name, item[0]))
    return tuple(change for _, change in found)


def _relationship_change(
    type_name: str,
    object_id: str,
    rel: Relationship,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
) -> RelationshipChange | None:
    """The edge changes of one relationship, or None when its edges are the same."""
    old_value, new_value = before.get(rel.name), after.get(rel.name)
    old = _edges_by_id(type_name, object_id, rel, old_value)
    new = _edges_by_id(type_name, object_id, rel, new_value)
    if canonical_bytes(old_value) == canonical_bytes(new_value):
        return None
    added = tuple(new[i] for i in sorted(new.keys() - old.keys()))
    removed = tuple(old[i] for i in sorted(old.keys() - new.keys()))
    changed = tuple(
        (old[i], new[i])
        for i in sorted(old.keys() & new.keys())
        if canonical_bytes(old[i]) != canonical_bytes(new[i])
    )
    if not (added or removed or changed):
        return None
    return RelationshipChange(rel.name, added, removed, changed)


def _edges_by_id(
    type_name: str, object_id: str, rel: Relationship, value: Any
) -> dict[str, dict[str, Any]]:
    """A relationship's edges keyed by id; absent and ``null`` mean no edges."""
    where = f"{type_name} {object_id!r}, relationship {rel.name!r}"
    if value is None:
        return {}
    if rel.single_valued:
        if not isinstance(value, Mapping):
            raise MalformedDocument(f"{where}: expected an object or null")
        items: list[Any] = [value]
    elif isinstance(value, list):
        items = value
    else:
        raise MalformedDocument(f"{where}: expected an array")
    edges: dict[str, dict[str, Any]] = {}
    for item in items:
        edge_id = item.get("id") if isinstance(item, Mapping) else None
        if not isinstance(edge_id, str):
            raise MalformedDocument(f"{where}: every edge must be an object with a string id")
        if edge_id in edges:
            raise MalformedDocument(f"{where}: edge id {edge_id!r} appears twice")
        edges[edge_id] = dict(item)
    return edges
