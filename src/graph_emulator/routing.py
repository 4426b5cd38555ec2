"""Graph routes: URL templates below ``/v1.0`` mapped to handlers and permissions."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graph_emulator.protocol import GraphError, GraphResponse

if TYPE_CHECKING:
    from graph_emulator.context import Context

Handler = Callable[["Context"], GraphResponse]

_PLACEHOLDER = re.compile(r"\{([A-Za-z_]+)\}")


@dataclass(frozen=True)
class Route:
    """One method and URL template, with the permissions any one of which allows it."""

    method: str
    template: str
    handler: Handler
    permissions: tuple[str, ...]
    pattern: re.Pattern[str] = field(compare=False)
    resource_units: int = 1
    """Base cost in the identity service's throttling (graph-facts.md section 4.2)."""
    lane: str = "directory"
    """Throttling lane: ``directory``, ``conditionalAccess`` or ``reports``."""


def _compile(template: str) -> re.Pattern[str]:
    parts: list[str] = []
    position = 0
    for match in _PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[position:match.start()]))
        parts.append(f"(?P<{match.group(1)}>[^/]+)")
        position = match.end()
    parts.append(re.escape(template[position:]))
    return re.compile("^" + "".join(parts) + "/?$", re.IGNORECASE)


class Router:
    """Finds the route for a method and path, or raises Graph's error for none."""

    def __init__(self) -> None:
        self._routes: list[Route] = []

    def add(
        self,
        method: str,
        template: str,
        handler: Handler,
        permissions: tuple[str, ...],
        *,
        resource_units: int = 1,
        lane: str = "directory",
    ) -> None:
        self._routes.append(
            Route(method.upper(), template, handler, permissions, _compile(template),
                  resource_units, lane)
        )

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """The route serving ``method path`` and the template's values."""
        allowed = False
        best: tuple[Route, dict[str, str]] | None = None
        for route in self._routes:
            found = route.pattern.match(path)
            if not found:
                continue
            if route.method != method:
                allowed = True
                continue
            # A literal segment beats a placeholder: /users/delta over /users/{id}.
            if best is None or len(found.groupdict()) < len(best[1]):
                best = (route, found.groupdict())
        if best is not None:
            return best
        if allowed:
            raise GraphError(405, "Request_BadRequest",
                             f"The method '{method}' is not allowed on '{path}'.")
        raise GraphError(400, "BadRequest",
                         f"Resource not found for the segment '{self._unmatched(path)}'.")

    def _unmatched(self, path: str) -> str:
        """The first segment of ``path`` that no route template accepts at its position."""
        segments = [s for s in path.split("/") if s]
        best = 0
        for route in self._routes:
            template = [s for s in route.template.split("/") if s]
            matched = 0
            for have, want in zip(segments, template, strict=False):
                if want.startswith("{") or have.lower() == want.lower():
                    matched += 1
                else:
                    break
            best = max(best, matched)
        return segments[min(best, len(segments) - 1)] if segments else path

    def describe(self) -> list[dict[str, Any]]:
        """Every route as ``{"methods": [...], "path": "/v1.0/..."}``, for the control API."""
        grouped: dict[str, list[str]] = {}
        for route in self._routes:
            grouped.setdefault(route.template, []).append(route.method)
        return [{"methods": sorted(m), "path": "/v1.0" + t} for t, m in grouped.items()]
