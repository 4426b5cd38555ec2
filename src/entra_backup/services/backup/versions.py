"""The object versions a backup hands to the catalog, kept on disk until the commit.

The catalog is told about a snapshot only after the snapshot is durable, so the versions
seen during the run wait in a temporary SQLite file: per object its type, id, content hash
and searchable fields (not the whole document). Types read incrementally log only their
changes and removals.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson

from entra_backup.catalog import ObjectVersion
from entra_backup.catalog.fields import version_hash

SEARCH_KEYS = ("displayName", "userPrincipalName", "mail", "appId", "lastModifiedDateTime",
               "modifiedDateTime", "createdDateTime")


class VersionLog:
    """Versions and removals per type, in a temporary file."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="entra-backup-versions-")
        self._db = sqlite3.connect(Path(self._dir.name) / "versions.db")
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute("CREATE TABLE versions (type TEXT, id TEXT, hash TEXT, fields BLOB, "
                         "PRIMARY KEY (type, id))")
        self._db.execute("CREATE TABLE removed (type TEXT, id TEXT, PRIMARY KEY (type, id))")
        self.changes_only: dict[str, bool] = {}

    def add(self, type_name: str, object_id: str, document: Mapping[str, Any]) -> str:
        """Log one object's version; return its hash."""
        digest = version_hash(document)
        fields = {key: document[key] for key in SEARCH_KEYS if key in document}
        self._db.execute("INSERT OR REPLACE INTO versions VALUES (?, ?, ?, ?)",
                         (type_name, object_id, digest, orjson.dumps(fields)))
        return digest

    def remove(self, type_name: str, object_ids: Iterable[str]) -> None:
        """Log objects of an incrementally read type as gone."""
        self._db.executemany("INSERT OR IGNORE INTO removed VALUES (?, ?)",
                             [(type_name, object_id) for object_id in object_ids])

    def discard(self, type_name: str) -> None:
        """Forget a type's versions (it failed and is carried forward)."""
        self._db.execute("DELETE FROM versions WHERE type = ?", (type_name,))
        self._db.execute("DELETE FROM removed WHERE type = ?", (type_name,))
        self.changes_only.pop(type_name, None)

    def removed_ids(self) -> dict[str, tuple[str, ...]]:
        """Removed ids of every type read incrementally (types without removals too)."""
        found: dict[str, list[str]] = {name: [] for name, only in self.changes_only.items()
                                       if only}
        for type_name, object_id in self._db.execute(
                "SELECT type, id FROM removed ORDER BY type, id"):
            found.setdefault(type_name, []).append(object_id)
        return {name: tuple(ids) for name, ids in found.items()}

    def versions(self) -> Iterator[ObjectVersion]:
        """Every logged version, by type and id."""
        cursor = self._db.execute("SELECT type, id, hash, fields FROM versions ORDER BY type, id")
        while rows := cursor.fetchmany(1000):
            for type_name, object_id, digest, fields in rows:
                yield ObjectVersion(type_name, object_id, digest, orjson.loads(fields))

    def close(self) -> None:
        """Delete the temporary file."""
        self._db.close()
        self._dir.cleanup()
