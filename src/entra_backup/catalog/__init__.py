"""The catalog: a database index of snapshots and object versions, rebuilt from the repository."""

from entra_backup.catalog.errors import CatalogError
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
    "ObjectVersion",
    "SearchHit",
    "SnapshotInfo",
    "SnapshotSource",
    "VersionChange",
    "VersionRow",
    "reindex",
]
