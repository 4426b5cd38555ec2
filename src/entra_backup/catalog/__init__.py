"""The catalog: a database index of snapshots and object versions, rebuilt from the repository."""

from entra_backup.catalog.errors import CatalogError, CatalogOutOfDate
from entra_backup.catalog.records import (
    ObjectVersion,
    SearchHit,
    SnapshotInfo,
    VersionChange,
    VersionRow,
)
from entra_backup.catalog.reindex import SnapshotSource, reindex
from entra_backup.catalog.store import Catalog

__all__ = [
    "Catalog",
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
