"""The catalog: open a database, record snapshots, answer queries."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Engine, delete, select
from sqlalchemy.engine import URL, Connection

from entra_backup.catalog.engine import (
    make_engine,
    parse_url,
    read_transaction,
    translate_errors,
    write_transaction,
)
from entra_backup.catalog.models import (
    object_versions,
    search_terms,
    snapshots,
    staged_versions,
    tenants,
)
from entra_backup.catalog.queries import (
    SearchFilter,
    changed_between,
    names_at,
    search,
    timeline,
    with_key,
)
from entra_backup.catalog.queries import versions_at as _versions_at
from entra_backup.catalog.recorder import BATCH, record_snapshot
from entra_backup.catalog.records import ObjectVersion, SnapshotInfo, VersionChange, VersionRow
from entra_backup.catalog.schema import upgrade_to_head
from entra_backup.catalog.sqlite_files import database_path, remove, swap_in
from entra_backup.catalog.textsearch import Mode

T = TypeVar("T")


class Catalog:
    """An index of snapshots and object versions in SQLite or PostgreSQL.

    Open it with :meth:`open`; the schema is brought up to date on open. Every method
    runs in its own transaction, so a crash never leaves a half-recorded snapshot.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @classmethod
    def open(cls, url: str | URL) -> Catalog:
        """Open (creating or upgrading) the catalog at a SQLAlchemy URL."""
        engine = make_engine(parse_url(url))
        try:
            upgrade_to_head(engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    @property
    def url(self) -> URL:
        """The database URL."""
        return self._engine.url

    def close(self) -> None:
        """Release the database connections."""
        self._engine.dispose()

    def _write(self) -> AbstractContextManager[Connection]:
        return write_transaction(self._engine)

    def _read(self) -> AbstractContextManager[Connection]:
        return read_transaction(self._engine)

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def record(self, info: SnapshotInfo, versions: Iterable[ObjectVersion],
               batch: int = BATCH) -> bool:
        """Record a snapshot with every object it holds; False if it was already there.

        Snapshots of a tenant must be recorded oldest first; ``versions`` is consumed once,
        ``batch`` rows at a time.
        """
        with self._write() as connection:
            return record_snapshot(connection, info, versions, batch)

    def snapshot_ids(self, tenant: str | None = None) -> list[str]:
        """Recorded snapshot ids, oldest first."""
        statement = select(snapshots.c.id).join(tenants, tenants.c.id == snapshots.c.tenant_id)
        if tenant is not None:
            statement = statement.where(tenants.c.name == tenant)
        with self._read() as connection:
            return list(connection.execute(
                statement.order_by(snapshots.c.time, snapshots.c.seq)).scalars())

    def versions_at(self, snapshot_id: str, type_: str | None = None) -> Iterator[VersionRow]:
        """Stream the versions current in a snapshot, by type and object id."""
        with self._read() as connection:
            yield from _versions_at(connection, snapshot_id, type_)

    def search(self, query: str = "", *, mode: Mode = "substring", tenant: str | None = None,
               type: str | None = None, from_: datetime | None = None,
               to: datetime | None = None, deleted_only: bool = False,
               limit: int = 100) -> list[VersionRow]:
        """Versions whose display name, UPN, mail or appId contains (or starts with) ``query``.

        ``from_``/``to`` (inclusive) keep versions that appeared in the range (their
        ``changed_at``) and objects deleted in it; ``deleted_only`` keeps the last versions
        of objects deleted between snapshots.
        """
        spec = SearchFilter(query=query, mode=mode, tenant=tenant, type=type, from_=from_,
                            to=to, deleted_only=deleted_only, limit=limit)
        with self._read() as connection:
            return search(connection, spec)

    def timeline(self, object_id: str, tenant: str | None = None) -> list[VersionRow]:
        """Every version of an object, oldest first."""
        with self._read() as connection:
            return timeline(connection, object_id, tenant)

    def with_key(self, tenant: str, value: str, type_: str | None = None) -> list[VersionRow]:
        """Versions of the tenant whose UPN, mail or appId equals ``value`` (any case)."""
        with self._read() as connection:
            return with_key(connection, tenant, value, type_)

    def names_at(self, snapshot_id: str, object_ids: list[str]) -> dict[str, str | None]:
        """Display names of objects current in a snapshot, by id (absent ids left out)."""
        with self._read() as connection:
            return names_at(connection, snapshot_id, object_ids)

    def changed_between(self, before: str, after: str) -> list[VersionChange]:
        """Objects added, changed or removed between two snapshots of one tenant."""
        with self._read() as connection:
            return changed_between(connection, before, after)

    def clear(self) -> None:
        """Remove every recorded row (the schema stays)."""
        with self._write() as connection:
            if connection.dialect.name == "sqlite":
                connection.exec_driver_sql("DELETE FROM search_fts")
                connection.exec_driver_sql("DELETE FROM deleted_fts")
            for table in (search_terms, staged_versions, object_versions, snapshots, tenants):
                connection.execute(delete(table))

    def rebuild(self, fill: Callable[[Catalog], T]) -> T:
        """Build a new catalog with ``fill`` and put it in place of this one when it returns.

        A SQLite catalog is built in a new file beside the old one and swapped in only at
        the end; a PostgreSQL (or in-memory) catalog is emptied and filled in one
        transaction, which readers see only once it commits. Either way a rebuild that
        fails half-way leaves the old catalog answering.
        """
        path = database_path(self._engine.url)
        if path is None:
            with write_transaction(self._engine) as connection:
                inside = _InOneTransaction(self._engine, connection)
                inside.clear()
                return fill(inside)
        building = path.with_name(f"{path.name}.rebuild-{os.getpid()}")
        remove(building)
        try:
            with Catalog.open(self._engine.url.set(database=str(building))) as fresh:
                result = fill(fresh)
        except BaseException:
            remove(building)
            raise
        self._engine.dispose()
        swap_in(building, path)
        self._engine = make_engine(self._engine.url)
        return result

    def ping(self) -> None:
        """Raise CatalogError unless the database answers."""
        with translate_errors(self._engine.url), self._engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")


class _InOneTransaction(Catalog):
    """A catalog whose every operation runs in one transaction its caller holds open."""

    def __init__(self, engine: Engine, connection: Connection) -> None:
        super().__init__(engine)
        self._connection = connection

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with translate_errors(self._engine.url):
            yield self._connection

    _read = _write
