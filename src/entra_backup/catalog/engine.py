"""Open a catalog database: engine set-up per backend and clear errors for bad URLs."""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import URL, Connection, make_url

from entra_backup.catalog.errors import CatalogDamaged, CatalogDiskFull, CatalogError

_IMMEDIATE = "catalog_immediate"
_BUSY_TIMEOUT_S = 30.0
_WAL_RETRY_S = 0.02
_PG_CONNECT_TIMEOUT_S = 5
_SQLITE_IOERR, _SQLITE_FULL = 10, 13
_NEARLY_FULL = 1024 * 1024
# SQLite's words for a file whose bytes are not (or no longer) a database: no retry or
# wait can help, only rebuilding from the repository (docs/catalog.md).
_DAMAGE_SIGNS = ("file is not a database", "database disk image is malformed")


def parse_url(url: str | URL) -> URL:
    """Parse a database URL; ``postgresql://`` means the psycopg 3 driver."""
    try:
        parsed = make_url(url)
    except exc.ArgumentError as error:
        raise CatalogError(f"{url!r} is not a database URL: {error}") from error
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise CatalogError(
            f"unsupported catalog database {parsed.get_backend_name()!r}: use sqlite:///PATH "
            "or postgresql://USER@HOST/DB"
        )
    return parsed


def safe_url(url: URL) -> str:
    """The URL for messages, password hidden."""
    return url.render_as_string(hide_password=True)


def make_engine(url: URL) -> Engine:
    """An engine with the backend's pragmas and transaction behaviour installed."""
    try:
        if url.get_backend_name() == "sqlite":
            _create_private_file(url.database)
            engine = create_engine(url, connect_args={"timeout": _BUSY_TIMEOUT_S})
            _configure_sqlite(engine)
            return engine
        return create_engine(url, pool_pre_ping=True,
                             connect_args={"connect_timeout": _PG_CONNECT_TIMEOUT_S})
    except (exc.NoSuchModuleError, ImportError) as error:
        raise CatalogError(
            f"no driver for {safe_url(url)}: install the 'postgres' extra (psycopg)"
        ) from error
    except exc.ArgumentError as error:
        # A URL the parser accepts but the dialect refuses (a SQLite URL with a host).
        reason = str(error).strip().splitlines()[0]
        raise CatalogError(f"{safe_url(url)} is not a usable catalog URL: {reason}"
                           ) from error


def probe(url: str | URL) -> None:
    """Connect once to a server catalog and disconnect: raise CatalogError if it cannot be
    used. Reads no table, so it needs no key; SQLite is not probed (it would create the
    file, and opening it fails only for local reasons the real open names)."""
    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        return
    engine = make_engine(parsed)
    try:
        with translate_errors(parsed), engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    finally:
        engine.dispose()


def _create_private_file(database: str | None) -> None:
    """Create a new SQLite file readable by its owner only, before SQLite opens it: the
    catalog holds names and addresses in clear, and SQLite gives the -wal and -shm files
    the database file's mode."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    try:
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError:
        # It exists already, or it cannot be created: SQLite's own open names the cause.
        return


def _configure_sqlite(engine: Engine) -> None:
    # The sqlite3 module opens transactions lazily and never with BEGIN IMMEDIATE; taking
    # control lets writers wait for each other instead of failing with "database is locked".
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        _enable_wal(cursor)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(_BUSY_TIMEOUT_S * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(_IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _enable_wal(cursor: Any) -> None:
    """Switch the file to WAL, waiting out another connection that is doing the same.

    The switch needs the database to itself, and SQLite answers "database is locked" at
    once instead of calling the busy handler, so several first opens of a new catalog at
    the same moment would fail; a file already in WAL mode needs no switch at all."""
    deadline = time.monotonic() + _BUSY_TIMEOUT_S
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(_WAL_RETRY_S)


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that holds the write lock from its start (SQLite) and commits at exit."""
    with translate_errors(engine.url), engine.connect() as plain:
        connection = plain.execution_options(**{_IMMEDIATE: True})
        with connection.begin():
            yield connection


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction: one consistent view for a query."""
    with translate_errors(engine.url), engine.connect() as connection, connection.begin():
        yield connection


@contextmanager
def translate_errors(url: URL) -> Iterator[None]:
    """Turn driver errors into CatalogError naming the database."""
    try:
        yield
    except exc.DBAPIError as error:
        if isinstance(error, exc.OperationalError) and url.get_backend_name() == "sqlite" \
                and url.database and _sqlite_full(error, url.database):
            raise _disk_full(url.database) from error
        if any(sign in _reason(error) for sign in _DAMAGE_SIGNS):
            raise CatalogDamaged(
                f"catalog database {safe_url(url)} is damaged: {_reason(error)}") from error
        raise _translated(url, error) from error


def _translated(url: URL, error: exc.DBAPIError) -> CatalogError:
    if isinstance(error, exc.OperationalError):
        return CatalogError(
            f"catalog database {safe_url(url)} is unreachable or unusable: {_reason(error)}")
    return CatalogError(f"catalog database {safe_url(url)} failed: {_reason(error)}")


def _sqlite_full(error: exc.DBAPIError, database: str) -> bool:
    """Whether SQLite failed for want of space: it says "database or disk is full"
    (SQLITE_FULL) when a write finds the disk full, but only "disk I/O error"
    (SQLITE_IOERR, with no errno) when growing its WAL index does; so an I/O error on a
    file system with almost no free space counts as a full disk too."""
    code = getattr(error.orig, "sqlite_errorcode", None)
    if not isinstance(error.orig, sqlite3.Error) or code is None:
        return False
    if code & 0xFF == _SQLITE_FULL:
        return True
    return code & 0xFF == _SQLITE_IOERR and (_free(_folder(database)) or 0) < _NEARLY_FULL


def _disk_full(database: str) -> CatalogDiskFull:
    folder = _folder(database)
    return CatalogDiskFull(folder, doing="writing the catalog database", free=_free(folder))


def _folder(database: str) -> str:
    return os.path.dirname(os.path.abspath(database))


def _free(folder: str) -> int | None:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def _reason(error: exc.DBAPIError) -> str:
    return str(error.orig).strip().splitlines()[0] if error.orig else str(error)
