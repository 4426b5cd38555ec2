"""Loads generated content into a tenant's directory (a :class:`DirectorySink`)."""

from __future__ import annotations

from typing import Any

from graph_emulator.model.directory import Directory


class DirectoryLoader:
    """A sink that adds every object and link it receives to a directory."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory

    def add(self, kind: str, obj: dict[str, Any]) -> None:
        self.directory.add(kind, obj)

    def link(self, relation: str, source_id: str, target_id: str) -> None:
        self.directory.link(relation, source_id, target_id)
