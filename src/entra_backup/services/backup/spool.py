"""A delta round merged on disk, so a first round over a large tenant stays in bounded memory.

Graph may send an object several times in one round (replays) and splits a large group's
``members@delta`` over several pages, so items are merged per object id: later properties
overwrite earlier ones, ``<relation>@delta`` slices are unioned per edge id (a later entry
for an edge, such as its removal, wins), and ``@removed`` records why an object went
(``changed``: soft-deleted; ``deleted``: gone for good). The merged objects live in a
temporary SQLite file, not in memory; most items are new ids and cost one insert.

Bodies are sealed with a throw-away key (``spool_cipher.py``), so a run killed before it
could delete the file leaves no tenant data in clear; a full ``TMPDIR`` is reported as
:class:`~entra_backup.domain.errors.DiskFull` (``spool_space.py``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson

from entra_backup.domain.documents import DELTA_SUFFIX, REMOVED
from entra_backup.services.backup.spool_cipher import SpoolCipher
from entra_backup.services.backup.spool_space import (
    create_spool_db,
    folder_size,
    reporting_full_disk,
)
from entra_backup.services.leftovers import SPOOL_PREFIX

_READ_BATCH = 500


class DeltaSpool:
    """Merged items of one delta round (or one enumeration), keyed by object id."""

    def __init__(self, directory: Path | None = None) -> None:
        parent = Path(directory or tempfile.gettempdir())
        self._dir, self._db = create_spool_db(
            parent, SPOOL_PREFIX,
            ("CREATE TABLE items (id TEXT PRIMARY KEY, body BLOB NOT NULL)",
             "CREATE TABLE removed (id TEXT PRIMARY KEY, reason TEXT NOT NULL)"),
            lambda: "creating the backup's temporary spool")
        self._parent = parent
        self._cipher = SpoolCipher()
        self.items = 0
        self.replays = 0

    @property
    def folder(self) -> Path:
        """The spool's own temporary folder (under ``TMPDIR`` unless told otherwise)."""
        return Path(self._dir.name)

    def add(self, item: Mapping[str, Any]) -> None:
        """Merge one item of a page."""
        object_id = item.get("id")
        if not isinstance(object_id, str):
            return
        self.items += 1
        with reporting_full_disk(self._parent, self._growing):
            self._add(object_id, item)

    def _growing(self) -> str:
        return (f"the backup's temporary spool ({folder_size(self.folder):,} bytes so far; "
                "TMPDIR may name a larger folder)")

    def _add(self, object_id: str, item: Mapping[str, Any]) -> None:
        removal = item.get(REMOVED)
        if isinstance(removal, dict):
            self._remove(object_id, str(removal.get("reason", "deleted")))
            return
        if self._db.execute("DELETE FROM removed WHERE id = ?", (object_id,)).rowcount:
            self.replays += 1
        inserted = self._db.execute("INSERT OR IGNORE INTO items VALUES (?, ?)",
                                    (object_id, self._seal(object_id, item))).rowcount
        if not inserted:
            self.replays += 1
            self._merge(object_id, item)

    def _remove(self, object_id: str, reason: str) -> None:
        if self._db.execute("DELETE FROM items WHERE id = ?", (object_id,)).rowcount:
            self.replays += 1
        self._db.execute("INSERT OR REPLACE INTO removed VALUES (?, ?)", (object_id, reason))

    def _merge(self, object_id: str, item: Mapping[str, Any]) -> None:
        row = self._db.execute("SELECT body FROM items WHERE id = ?", (object_id,)).fetchone()
        merged = merge_items(self._open(object_id, row[0]), item)
        self._db.execute("UPDATE items SET body = ? WHERE id = ?",
                         (self._seal(object_id, merged), object_id))

    def _seal(self, object_id: str, item: Mapping[str, Any]) -> bytes:
        return self._cipher.seal(orjson.dumps(item), object_id)

    def _open(self, object_id: str, body: bytes) -> dict[str, Any]:
        return dict(orjson.loads(self._cipher.open(body, object_id)))

    def __len__(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM items").fetchone()[0])

    def get(self, object_id: str) -> dict[str, Any] | None:
        """One merged item, or None."""
        row = self._db.execute("SELECT body FROM items WHERE id = ?", (object_id,)).fetchone()
        return None if row is None else self._open(object_id, row[0])

    def merged(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every merged item in id order, read a batch at a time."""
        after = ""
        while True:
            rows = self._db.execute(
                "SELECT id, body FROM items WHERE id > ? ORDER BY id LIMIT ?",
                (after, _READ_BATCH)).fetchall()
            if not rows:
                return
            for object_id, body in rows:
                yield object_id, self._open(object_id, body)
            after = rows[-1][0]

    def removed(self) -> dict[str, str]:
        """Removed ids with Graph's reason."""
        return dict(self._db.execute("SELECT id, reason FROM removed ORDER BY id"))

    def close(self) -> None:
        """Delete the temporary file."""
        self._db.close()
        self._dir.cleanup()

    def __enter__(self) -> DeltaSpool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def merge_items(earlier: dict[str, Any], later: Mapping[str, Any]) -> dict[str, Any]:
    """Two items of one object in one round merged: see the module docstring."""
    merged = dict(earlier)
    for name, value in later.items():
        if name.endswith(DELTA_SUFFIX) and isinstance(value, list):
            edges = {entry["id"]: entry for entry in merged.get(name) or []
                     if isinstance(entry, dict) and "id" in entry}
            for entry in value:
                if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                    edges[entry["id"]] = entry
            merged[name] = list(edges.values())
        else:
            merged[name] = value
    return merged
