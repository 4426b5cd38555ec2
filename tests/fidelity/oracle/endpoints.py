"""Microsoft's list of documented Graph v1.0 paths, as a route allow-list.

``msgraph-v1.0-endpoints.sqlite`` (from Dev Proxy) lists paths such as
``/users/{user-id}/memberOf``, ``/directory/deletedItems/graph.user`` and
``/users/delta()``. ``route_exists`` matches a concrete path (``/users/7f3e.../memberOf``)
or a template (``/users/{id}/memberOf``) against it: a ``{x-id}`` segment matches any
one segment, ``delta()`` also matches ``delta`` and ``microsoft.graph.delta``, ``graph.user``
also ``microsoft.graph.user``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from tests.reference import ENDPOINTS, graph_sqlite

_PARAMETER = re.compile(r"^\{[^/{}]+\}$")


class EndpointListError(RuntimeError):
    """The endpoint database has no v1.0 paths."""


def _key(segment: str) -> str:
    """How a segment of the endpoint list is stored: lower case, function calls marked.

    ``delta()`` -> ``delta()``; ``reminderView(StartDateTime='{x}')`` -> ``reminderview(...)``;
    ``graph.user`` and anything else -> itself, lower case (Graph ignores case in paths).
    """
    name, paren, _ = segment.partition("(")
    if not paren:
        return segment.lower()
    return name.lower() + ("()" if segment.endswith("()") else "(...)")


def lookup_keys(segment: str) -> list[str]:
    """The stored keys a path segment may match, most literal first.

    ``delta`` also matches the function ``delta()``; ``microsoft.graph.user`` matches the
    cast ``graph.user``; ``microsoft.graph.delta`` matches the namespace-qualified call of
    ``delta()``; ``getByIds(ids='x')`` matches ``getbyids(...)``.
    """
    lowered = segment.lower()
    for prefix in ("microsoft.graph.", "graph."):
        if lowered.startswith(prefix):
            rest = segment[len(prefix):]
            return ["graph." + _key(rest), *lookup_keys(rest)]
    key = _key(segment)
    if key.endswith("()"):
        return [key, key[:-2]]
    if key.endswith("(...)"):
        return [key]
    return [key, key + "()"]


def split_path(path: str) -> list[str]:
    """The segments of a Graph path, without ``/v1.0``, query string or empty segments."""
    path = path.split("?", 1)[0]
    segments = [s for s in path.split("/") if s]
    if segments and segments[0] in ("v1.0", "beta"):
        segments = segments[1:]
    return segments


@dataclass
class _Node:
    literal: dict[str, _Node] = field(default_factory=dict)
    parameter: _Node | None = None
    terminal: bool = False


class Endpoints:
    """The documented v1.0 paths as a segment trie."""

    def __init__(self, paths: list[str]) -> None:
        self.paths = paths
        self._root = _Node()
        for path in paths:
            self._insert(split_path(path))

    def _insert(self, segments: list[str]) -> None:
        node = self._root
        for segment in segments:
            if _PARAMETER.match(segment):
                node.parameter = node.parameter or _Node()
                node = node.parameter
            else:
                node = node.literal.setdefault(_key(segment), _Node())
        node.terminal = True

    def route_exists(self, path: str, template: bool = False) -> bool:
        """Whether the concrete or template ``path`` is a documented v1.0 path.

        A ``{...}`` segment of ``path`` matches only a parameter segment of the list. Any
        other segment matches the same literal; in a concrete path (``template`` false) it
        may also match a parameter, since it may be an id.
        """
        return self._match(self._root, split_path(path), template)

    def _match(self, node: _Node, segments: list[str], template: bool) -> bool:
        if not segments:
            return node.terminal
        head, rest = segments[0], segments[1:]
        if _PARAMETER.match(head):
            return node.parameter is not None and self._match(node.parameter, rest, template)
        for key in lookup_keys(head):
            child = node.literal.get(key)
            if child is not None and self._match(child, rest, template):
                return True
        return (not template and node.parameter is not None
                and self._match(node.parameter, rest, template))


@cache
def load_endpoints() -> Endpoints:
    """The v1.0 endpoint list, read once per process."""
    db = graph_sqlite(ENDPOINTS)
    try:
        rows = db.execute(
            "SELECT DISTINCT path FROM endpoints WHERE graphVersion = 'v1.0'").fetchall()
    finally:
        db.close()
    if not rows:
        raise EndpointListError(f"{ENDPOINTS} lists no v1.0 paths")
    return Endpoints([row[0] for row in rows])


def route_exists(path: str, template: bool = False) -> bool:
    """Whether ``path`` is in Microsoft's v1.0 endpoint list; see :meth:`Endpoints.route_exists`.

    Pass ``template=True`` for route templates such as ``/users/{id}/memberOf``, whose
    literal segments must not be taken for ids.
    """
    return load_endpoints().route_exists(path, template)
