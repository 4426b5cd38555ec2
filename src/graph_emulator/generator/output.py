"""The generator's side of a :class:`DirectorySink`: forwards and counts."""

from __future__ import annotations

from typing import Any

from graph_emulator.model.kinds import KINDS, RELATIONS
from graph_emulator.model.sink import DirectorySink


class Output:
    """Forwards objects and links to a sink, counting them per kind and relation."""

    def __init__(self, sink: DirectorySink) -> None:
        self._sink = sink
        self.counts: dict[str, int] = dict.fromkeys(KINDS, 0)
        self.links: dict[str, int] = dict.fromkeys(RELATIONS, 0)
        self.group_memberships = 0

    def add(self, kind: str, obj: dict[str, Any]) -> None:
        self.counts[kind] += 1
        self._sink.add(kind, obj)

    def link(self, relation: str, source_id: str, target_id: str) -> None:
        self.links[relation] += 1
        self._sink.link(relation, source_id, target_id)

    def group_member(self, group_id: str, member_id: str) -> None:
        """A member link from a group (counted apart from directory role and AU members)."""
        self.group_memberships += 1
        self.links["members"] += 1
        self._sink.link("members", group_id, member_id)
