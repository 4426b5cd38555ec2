"""Where generated or loaded directory content goes."""

from __future__ import annotations

from typing import Any, Protocol


class DirectorySink(Protocol):
    """Receives directory objects and the links between them, one at a time.

    ``kind`` is a key of :data:`graph_emulator.model.kinds.KINDS`; ``obj`` is the object's
    Graph JSON (with ``id``; with ``@odata.type`` only where the kind has subtypes, such as
    ``#microsoft.graph.ipNamedLocation``). ``relation`` is a key of
    :data:`graph_emulator.model.kinds.RELATIONS`. A link's source and target are added
    before the link.
    """

    def add(self, kind: str, obj: dict[str, Any]) -> None: ...

    def link(self, relation: str, source_id: str, target_id: str) -> None: ...
