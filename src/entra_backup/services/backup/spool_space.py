"""A full ``TMPDIR`` while spooling becomes one :class:`DiskFull` error, not a traceback.

SQLite reports a full disk as ``SQLITE_FULL`` ("database or disk is full"); creating the
spool's folder or file reports ``ENOSPC`` (or ``EDQUOT`` over a quota). Either way the
spool is thrown away with the run, so nothing half-written is kept.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from entra_backup.domain.errors import DiskFull

_SQLITE_FULL = 13
_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


def is_disk_full(error: BaseException) -> bool:
    """Whether an OS or SQLite error says the file system ran out of space."""
    if isinstance(error, sqlite3.Error):
        return (getattr(error, "sqlite_errorcode", 0) & 0xFF) == _SQLITE_FULL
    return isinstance(error, OSError) and error.errno in _FULL_ERRNOS


@contextmanager
def reporting_full_disk(folder: Path, what: Callable[[], str]) -> Iterator[None]:
    """Turn a full-disk failure inside the block into DiskFull naming ``folder``;
    ``what`` describes the write, called only on failure (it may stat files)."""
    try:
        yield
    except (sqlite3.Error, OSError) as exc:
        if not is_disk_full(exc):
            raise
        raise spool_full(folder, what()) from exc


def create_spool_db(parent: Path, prefix: str, schema: Iterable[str], what: Callable[[], str]
                    ) -> tuple[tempfile.TemporaryDirectory[str], sqlite3.Connection]:
    """A temporary folder under ``parent`` holding a new SQLite file with ``schema``;
    on a full disk, DiskFull, and the folder is removed at once (not left to the GC).

    The folder is named ``<prefix><pid>-<random>``: a sweep of a killed run's leftovers
    can tell a running backup's folders by their process."""
    with reporting_full_disk(parent, what):
        folder = tempfile.TemporaryDirectory(prefix=f"{prefix}{os.getpid()}-", dir=parent)
        try:
            db = sqlite3.connect(Path(folder.name) / "spool.db")
            try:
                # No journal and no fsync: the file dies with the run either way.
                for statement in ("PRAGMA journal_mode=OFF", "PRAGMA synchronous=OFF",
                                  *schema):
                    db.execute(statement)
            except BaseException:
                db.close()
                raise
        except BaseException:
            folder.cleanup()
            raise
    return folder, db


class SpoolFull(DiskFull):
    """``TMPDIR`` filled up under a spool; the engine adds its estimate of the space a
    backup needs there (:meth:`needing`), which the spool itself cannot know."""

    def __init__(self, folder: Path, what: str, needed: int | None = None) -> None:
        super().__init__(f"{folder} (TMPDIR)", doing=what, needed=needed, free=_free(folder))
        self.folder = folder
        self.what = what

    def needing(self, estimate: int) -> SpoolFull:
        """The same error, saying how much space the backup needs there."""
        return SpoolFull(self.folder, self.what, estimate)


def spool_full(folder: Path, what: str) -> SpoolFull:
    """The error for a spool in ``folder`` that could not grow; ``what`` says what it held."""
    return SpoolFull(folder, what)


def folder_size(folder: Path) -> int:
    """Bytes the files directly in ``folder`` take (a spool's database)."""
    try:
        return sum(item.stat().st_size for item in folder.iterdir() if item.is_file())
    except OSError:
        return 0


def _free(folder: Path) -> int | None:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None
