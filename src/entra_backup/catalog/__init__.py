"""The catalog: a database index of snapshots and object versions, rebuilt from the repository.

:class:`Catalog` and :func:`reindex` bring SQLAlchemy with them and are imported on first
use, so code that only names their types (or handles their errors) does not pay for it
(docs/decisions.md, D17).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from entra_backup.catalog.errors import CatalogDamaged, CatalogError, CatalogOutOfDate
from entra_backup.catalog.records import (
    ObjectVersion,
    SearchHit,
    SnapshotInfo,
    VersionChange,
    VersionRow,
)

# reindex is bound eagerly: it shares its name with its module, which an import of the
# module would otherwise leave in its place. It imports the store only for its types.
from entra_backup.catalog.reindex import SnapshotSource, reindex

if TYPE_CHECKING:
    from entra_backup.catalog.store import Catalog

_LAZY = {"Catalog": "entra_backup.catalog.store"}

__all__ = [
    "Catalog",
    "CatalogDamaged",
    "CatalogError",
    "CatalogOutOfDate",
    "ObjectVersion",
    "SearchHit",
    "SnapshotInfo",
    "SnapshotSource",
    "VersionChange",
    "VersionRow",
    "reindex",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
