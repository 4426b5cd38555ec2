"""Figures a backup reports beyond object counts: the relationship edges it holds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from entra_backup.domain.documents import as_edge_list
from entra_backup.domain.object_types import ObjectType


def edge_count(object_type: ObjectType, document: Mapping[str, Any] | None) -> int:
    """The relationship edges a stored document holds (members, owners, manager, ...)."""
    if document is None:
        return 0
    return sum(len(as_edge_list(document.get(relationship.name)))
               for relationship in object_type.relationships)
