"""The object versions a backup hands to the catalog, kept on disk until the commit.

The catalog is told about a snapshot only after the snapshot is durable, so the versions
seen during the run wait in a temporary SQLite file: per object its type, id, content hash
and searchable fields (not the whole document). Types read incrementally log only their
changes and removals. The searchable fields (names, user principal names, mail) are
sealed with the spools' throw-away key scheme (``spool_cipher.py``), so a killed run
leaves none of them in clear.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson

from entra_backup.catalog import ObjectVersion
from entra_backup.catalog.fields import VersionHasher
from entra_backup.services.backup.spool_cipher import SpoolCipher
from entra_backup.services.backup.spool_space import create_spool_db, reporting_full_disk
from entra_backup.services.leftovers import VERSIONS_PREFIX

SEARCH_KEYS = ("displayName", "userPrincipalName", "mail", "appId", "lastModifiedDateTime",
               "modifiedDateTime", "createdDateTime")


def _describe() -> str:
    return "the backup's temporary list of versions for the catalog (TMPDIR may name a " \
        "larger folder)"


class VersionLog:
    """Versions and removals per type, in a temporary file."""

    def __init__(self, version_hash: VersionHasher) -> None:
        self._hash = version_hash
        self._parent = Path(tempfile.gettempdir())
        self._dir, self._db = create_spool_db(
            self._parent, VERSIONS_PREFIX,
            ("CREATE TABLE versions (type TEXT, id TEXT, hash TEXT, fields BLOB, "
             "PRIMARY KEY (type, id))",
             "CREATE TABLE removed (type TEXT, id TEXT, PRIMARY KEY (type, id))"),
            _describe)
        self._cipher = SpoolCipher()
        self.changes_only: dict[str, bool] = {}

    def add(self, type_name: str, object_id: str, document: Mapping[str, Any]) -> str:
        """Log one object's version; return its hash."""
        digest = self._hash(document)
        fields = {key: document[key] for key in SEARCH_KEYS if key in document}
        sealed = self._cipher.seal(orjson.dumps(fields), f"{type_name}/{object_id}")
        with reporting_full_disk(self._parent, _describe):
            self._db.execute("INSERT OR REPLACE INTO versions VALUES (?, ?, ?, ?)",
                             (type_name, object_id, digest, sealed))
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
                plain = self._cipher.open(fields, f"{type_name}/{object_id}")
                yield ObjectVersion(type_name, object_id, digest, orjson.loads(plain))

    def close(self) -> None:
        """Delete the temporary file."""
        self._db.close()
        self._dir.cleanup()
