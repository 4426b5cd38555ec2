"""A SQLite catalog's files: its database, the -wal and -shm beside it, moving them.

A rebuilt catalog replaces the old file only once it is complete, and a damaged file is
moved aside (never deleted) before a new one is built, so nothing a user could still want
is lost (docs/catalog.md, "When the catalog is damaged or behind").
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import URL

_COMPANIONS = ("-wal", "-shm", "-journal")


def database_path(url: URL) -> Path | None:
    """The file of a SQLite catalog; None for PostgreSQL or an in-memory database."""
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:" \
            or database.startswith("file:"):
        return None
    return Path(database)


def companions(path: Path) -> list[Path]:
    """The files SQLite keeps beside ``path`` (present or not)."""
    return [Path(f"{path}{suffix}") for suffix in _COMPANIONS]


def set_aside(path: Path, now: datetime | None = None) -> Path:
    """Rename the database and its companions to ``<name>.broken-<UTC time>``; the new name."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.broken-{stamp}")
    for source, destination in zip([path, *companions(path)],
                                   [target, *companions(target)], strict=True):
        if source.exists():
            os.replace(source, destination)
    return target


def remove(path: Path) -> None:
    """Delete a database file and its companions, those that exist."""
    for item in (path, *companions(path)):
        item.unlink(missing_ok=True)


def swap_in(new: Path, old: Path) -> None:
    """Put the closed, complete database ``new`` in the place of ``old``.

    The old -wal and -shm go first: SQLite would otherwise replay the old file's log onto
    the new one.
    """
    for item in companions(old):
        item.unlink(missing_ok=True)
    os.replace(new, old)
    for item in companions(new):
        item.unlink(missing_ok=True)
