"""Record one snapshot's object versions: stage them in batches, then merge with set-based SQL.

Memory stays bounded whatever the snapshot's size: versions are staged ``batch`` at a time,
and the merge (close changed versions, mark deleted objects, insert new versions, index
their search terms) runs inside the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, bindparam, exists, func, insert, literal, select, text, update
from sqlalchemy.engine import Connection

from entra_backup.catalog.change_time import change_time
from entra_backup.catalog.errors import CatalogError, CatalogOutOfDate
from entra_backup.catalog.fields import search_terms, searchable
from entra_backup.catalog.models import (
    object_versions,
    snapshots,
    staged_versions,
    tenants,
)
from entra_backup.catalog.models import (
    search_terms as terms_table,
)
from entra_backup.catalog.records import ObjectVersion, SnapshotInfo
from entra_backup.catalog.timestamps import UtcDateTime

BATCH = 5000
_FIELDS = ("display_name", "upn", "mail", "app_id", "modified_time")


def tenant_id(connection: Connection, name: str, *, create: bool) -> int | None:
    """The tenant's key, created on first use when ``create`` is set."""
    found = connection.execute(select(tenants.c.id).where(tenants.c.name == name)).scalar()
    if found is not None or not create:
        return found
    return int(connection.execute(
        insert(tenants).values(name=name).returning(tenants.c.id)).scalar_one())


def record_snapshot(
    connection: Connection, info: SnapshotInfo, versions: Iterable[ObjectVersion],
    batch: int = BATCH,
) -> bool:
    """Record a snapshot and its versions; False when it was already recorded."""
    if connection.execute(select(snapshots.c.seq).where(snapshots.c.id == info.id)).first():
        return False
    tenant = tenant_id(connection, info.tenant, create=True)
    assert tenant is not None
    previous = _latest(connection, tenant)
    if previous is not None and previous[1] > info.time:
        raise CatalogError(
            f"snapshot {info.id[:8]} of {info.tenant} is older than the newest one recorded; "
            "run 'entra-backup reindex' to rebuild the catalog in time order"
        )
    _check_parent(connection, info, previous)
    seq = int(connection.execute(insert(snapshots).values(
        id=info.id, tenant_id=tenant, time=info.time, partial=info.partial,
        type_status=dict(info.type_status),
    ).returning(snapshots.c.seq)).scalar_one())
    _stage(connection, seq, versions, batch)
    prev_seq = None if previous is None else previous[0]
    _merge(connection, tenant, seq, prev_seq, info)
    _index_deleted_terms(connection, tenant, info)
    _index_new_terms(connection, seq, batch)
    connection.execute(staged_versions.delete().where(staged_versions.c.seq == seq))
    return True


def _check_parent(connection: Connection, info: SnapshotInfo, previous: Any) -> None:
    if not info.changes_only:
        return
    newest = None if previous is None else connection.execute(
        select(snapshots.c.id).where(snapshots.c.seq == previous[0])).scalar()
    if info.parent is None or newest != info.parent:
        raise CatalogOutOfDate(
            f"snapshot {info.id[:8]} holds only changes since {str(info.parent)[:8]}, which "
            "is not the newest snapshot the catalog recorded"
        )


def _latest(connection: Connection, tenant: int) -> Any:
    return connection.execute(
        select(snapshots.c.seq, snapshots.c.time).where(snapshots.c.tenant_id == tenant)
        .order_by(snapshots.c.time.desc(), snapshots.c.seq.desc()).limit(1)
    ).first()


def _stage(connection: Connection, seq: int, versions: Iterable[ObjectVersion],
           batch: int) -> None:
    rows: list[dict[str, Any]] = []
    for version in versions:
        row = searchable(version.document)
        row.update(seq=seq, type=version.type, object_id=version.object_id,
                   version_hash=version.version_hash)
        row["terms"] = "\n".join(search_terms(row))
        rows.append(row)
        if len(rows) >= batch:
            connection.execute(insert(staged_versions), rows)
            rows = []
    if rows:
        connection.execute(insert(staged_versions), rows)


def _same_object(seq: int) -> Any:
    return and_(staged_versions.c.seq == seq,
                staged_versions.c.type == object_versions.c.type,
                staged_versions.c.object_id == object_versions.c.object_id)


def _merge(connection: Connection, tenant: int, seq: int, prev_seq: int | None,
           info: SnapshotInfo) -> None:
    open_rows = and_(object_versions.c.tenant_id == tenant, object_versions.c.last_seq.is_(None))
    if prev_seq is not None:
        changed = exists().where(_same_object(seq),
                                 staged_versions.c.version_hash != object_versions.c.version_hash)
        connection.execute(update(object_versions).where(open_rows, changed)
                           .values(last_seq=prev_seq))
        complete = info.complete_types()
        if complete:
            gone = ~exists().where(_same_object(seq))
            connection.execute(
                update(object_versions)
                .where(open_rows, object_versions.c.type.in_(complete), gone)
                .values(last_seq=prev_seq, deleted_at=info.time)
            )
        _mark_removed(connection, open_rows, prev_seq, info)
    still_open = exists().where(open_rows, _same_object(seq))
    columns = ["tenant_id", "type", "object_id", "version_hash", "first_seq", *_FIELDS,
               "changed_at"]
    staged = staged_versions.c
    changed_at = change_time(literal(tenant), staged.type, staged.object_id,
                             modified=staged.modified_time, seq=literal(seq),
                             seen=literal(info.time, UtcDateTime()))
    source = select(
        literal(tenant), staged.type, staged.object_id, staged.version_hash, literal(seq),
        *(staged[name] for name in _FIELDS), changed_at,
    ).where(staged.seq == seq, ~still_open)
    connection.execute(insert(object_versions).from_select(columns, source))


def _mark_removed(connection: Connection, open_rows: Any, prev_seq: int,
                  info: SnapshotInfo) -> None:
    """Close the versions of objects an incremental snapshot reports as removed."""
    for type_name, removed in info.changes_only.items():
        for start in range(0, len(removed), 500):
            chunk = removed[start:start + 500]
            connection.execute(
                update(object_versions)
                .where(open_rows, object_versions.c.type == type_name,
                       object_versions.c.object_id.in_(chunk))
                .values(last_seq=prev_seq, deleted_at=info.time)
            )


def _index_deleted_terms(connection: Connection, tenant: int, info: SnapshotInfo) -> None:
    """Copy the text of the versions this snapshot marked deleted into their own index."""
    if connection.dialect.name != "sqlite":
        return
    ids = list(connection.execute(
        select(object_versions.c.id).where(object_versions.c.tenant_id == tenant,
                                           object_versions.c.deleted_at == info.time)
    ).scalars())
    copy = text("INSERT INTO deleted_fts(rowid, term) SELECT rowid, term FROM search_fts "
                "WHERE rowid IN :ids").bindparams(bindparam("ids", expanding=True))
    for start in range(0, len(ids), 500):
        connection.execute(copy, {"ids": ids[start:start + 500]})


def _index_new_terms(connection: Connection, seq: int, batch: int) -> None:
    fts = connection.dialect.name == "sqlite"
    after = 0
    while True:
        page = connection.execute(
            select(object_versions.c.id, staged_versions.c.terms)
            .join(staged_versions, and_(
                staged_versions.c.seq == seq,
                staged_versions.c.type == object_versions.c.type,
                staged_versions.c.object_id == object_versions.c.object_id))
            .where(object_versions.c.first_seq == seq, object_versions.c.id > after)
            .order_by(object_versions.c.id).limit(batch)
        ).all()
        if not page:
            return
        after = page[-1][0]
        rows = [{"version_id": vid, "term": term}
                for vid, terms in page if terms for term in terms.split("\n")]
        if rows:
            connection.execute(insert(terms_table), rows)
        if fts:
            connection.execute(text("INSERT INTO search_fts(rowid, term) VALUES (:id, :term)"),
                               [{"id": vid, "term": terms} for vid, terms in page if terms])


def staged_count(connection: Connection) -> int:
    """Rows left in the staging table (zero between recordings)."""
    return int(connection.execute(select(func.count()).select_from(staged_versions)).scalar_one())
