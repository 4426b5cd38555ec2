"""Read queries over the catalog: search, a snapshot's versions, timelines, changes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.engine import Connection

from entra_backup.catalog.errors import CatalogError
from entra_backup.catalog.models import object_versions as ov
from entra_backup.catalog.models import search_terms, snapshots, tenants
from entra_backup.catalog.records import VersionChange, VersionRow
from entra_backup.catalog.textsearch import Mode, escape_like, matching_versions

_first = snapshots.alias("first_snapshot")
_last = snapshots.alias("last_snapshot")


@dataclass(frozen=True, slots=True)
class SearchFilter:
    """What a search asks for; None means no constraint."""

    query: str = ""
    mode: Mode = "substring"
    tenant: str | None = None
    type: str | None = None
    from_: datetime | None = None
    to: datetime | None = None
    deleted_only: bool = False
    limit: int = 100


def _rows() -> Select[Any]:
    return (
        select(tenants.c.name, ov.c.type, ov.c.object_id, ov.c.version_hash, _first.c.id,
               _last.c.id, ov.c.deleted_at, ov.c.display_name, ov.c.upn, ov.c.mail,
               ov.c.app_id, ov.c.modified_time, ov.c.changed_at)
        .join(tenants, tenants.c.id == ov.c.tenant_id)
        .join(_first, _first.c.seq == ov.c.first_seq)
        .outerjoin(_last, _last.c.seq == ov.c.last_seq)
    )


def _as_row(row: Any) -> VersionRow:
    (tenant, type_, object_id, version, first, last, deleted_at, name, upn, mail, app_id,
     modified, changed) = row
    return VersionRow(tenant=tenant, type=type_, object_id=object_id, version_hash=version,
                      first_snapshot=first, last_snapshot=last, deleted=deleted_at is not None,
                      deleted_at=deleted_at, display_name=name, upn=upn, mail=mail,
                      app_id=app_id, modified_time=modified, changed_at=changed)


def search(connection: Connection, spec: SearchFilter) -> list[VersionRow]:
    """Versions matching every given criterion, grouped by object, oldest version first."""
    statement = _rows()
    query = spec.query.strip().lower()
    if query:
        statement = statement.where(_text_condition(connection, query, spec))
    if spec.tenant is not None:
        statement = statement.where(tenants.c.name == spec.tenant)
    if spec.type is not None:
        statement = statement.where(ov.c.type == spec.type)
    if spec.from_ is not None or spec.to is not None:
        statement = statement.where(_changed_in(spec.from_, spec.to))
    if spec.deleted_only:
        statement = statement.where(ov.c.deleted_at.is_not(None))
    statement = statement.order_by(ov.c.type, ov.c.object_id, ov.c.first_seq).limit(spec.limit)
    return [_as_row(row) for row in connection.execute(statement)]


def _changed_in(from_: datetime | None, to: datetime | None) -> Any:
    """Versions whose content appeared in the range, or whose object was deleted in it."""
    def within(column: Any) -> Any:
        bounds = [column.is_not(None)]
        if from_ is not None:
            bounds.append(column >= from_)
        if to is not None:
            bounds.append(column <= to)
        return and_(*bounds)
    return or_(within(ov.c.changed_at), within(ov.c.deleted_at))


SHORT_QUERY = 3
"""Below the trigram length no text index helps."""


def _text_condition(connection: Connection, query: str, spec: SearchFilter) -> Any:
    """The search text as a condition on versions, shaped for the backend's planner.

    A one- or two-character substring (ASCII, which SQLite's ``LIKE`` folds the same way
    as Python's ``lower``) is tested on the version's own columns: no text index serves
    it, and through the terms table it scanned every term first (about 380 ms at one
    million versions; about 200 ms this way).
    """
    if (spec.mode == "substring" and len(query) < SHORT_QUERY and query.isascii()
            and connection.dialect.name == "sqlite"):
        pattern = "%" + escape_like(query) + "%"
        columns = (ov.c.display_name, ov.c.upn, ov.c.mail, ov.c.app_id)
        return or_(*(column.like(pattern, escape="\\") for column in columns))
    ids = matching_versions(query, spec.mode, connection.dialect,
                            deleted_only=spec.deleted_only)
    ordered = spec.mode == "prefix" or spec.deleted_only
    return _version_id(connection, ids, ordered).in_(ids)


MANY_MATCHES = 2000
"""Matches from which walking the result order beats fetching and sorting every match."""


def _version_id(connection: Connection, ids: Select[Any], ordered: bool) -> Any:
    """The version id column as the text condition should test it.

    Few matches: SQLite should look each matching id up and sort the handful. Many (a
    common first name as a prefix, or any text among deleted objects only): it should walk
    an index in result order (or the deleted versions) and stop at ``limit``, testing each
    row against the matches, instead of fetching and sorting tens of thousands. ``id + 0``
    hides the rowid from the planner, which then takes the walk. Measured at one million
    versions it does not pay for plain substring matches (the trigram index answers those
    faster as a lookup). PostgreSQL's planner estimates this itself.
    """
    if connection.dialect.name != "sqlite" or not ordered:
        return ov.c.id
    sample = select(func.count()).select_from(ids.limit(MANY_MATCHES).subquery())
    many = connection.execute(sample).scalar_one() >= MANY_MATCHES
    return ov.c.id + 0 if many else ov.c.id


def snapshot_key(connection: Connection, snapshot_id: str) -> tuple[int, int]:
    """(seq, tenant key) of a recorded snapshot, or CatalogError."""
    row = connection.execute(select(snapshots.c.seq, snapshots.c.tenant_id)
                             .where(snapshots.c.id == snapshot_id)).first()
    if row is None:
        raise CatalogError(f"the catalog has no snapshot {snapshot_id!r}")
    return int(row[0]), int(row[1])


def _current_at(table: Any, seq: int, tenant: int) -> Any:
    return and_(table.c.tenant_id == tenant, table.c.first_seq <= seq,
                or_(table.c.last_seq.is_(None), table.c.last_seq >= seq))


def versions_at(connection: Connection, snapshot_id: str,
                type_: str | None = None) -> Iterator[VersionRow]:
    """The versions current in a snapshot, by type and object id."""
    seq, tenant = snapshot_key(connection, snapshot_id)
    statement = _rows().where(_current_at(ov, seq, tenant))
    if type_ is not None:
        statement = statement.where(ov.c.type == type_)
    for row in connection.execute(statement.order_by(ov.c.type, ov.c.object_id)):
        yield _as_row(row)


def timeline(connection: Connection, object_id: str,
             tenant: str | None = None) -> list[VersionRow]:
    """Every version of an object, oldest first."""
    statement = _rows().where(ov.c.object_id == object_id)
    if tenant is not None:
        statement = statement.where(tenants.c.name == tenant)
    statement = statement.order_by(tenants.c.name, ov.c.type, ov.c.first_seq)
    return [_as_row(row) for row in connection.execute(statement)]


def changed_between(connection: Connection, before_id: str, after_id: str) -> list[VersionChange]:
    """Objects added, changed or removed from one snapshot of a tenant to another."""
    before, tenant = snapshot_key(connection, before_id)
    after, other = snapshot_key(connection, after_id)
    if tenant != other:
        raise CatalogError(f"snapshots {before_id[:8]} and {after_id[:8]} belong to different "
                           "tenants")
    a, b = ov.alias("a"), ov.alias("b")
    same = and_(a.c.type == b.c.type, a.c.object_id == b.c.object_id)
    changes: list[VersionChange] = []
    changed = (select(a.c.type, a.c.object_id, a.c.version_hash, b.c.version_hash)
               .join(b, same)
               .where(_current_at(a, before, tenant), _current_at(b, after, tenant),
                      a.c.version_hash != b.c.version_hash))
    for type_, object_id, old, new in connection.execute(changed):
        changes.append(VersionChange(type_, object_id, "changed", old, new))
    removed = select(a.c.type, a.c.object_id, a.c.version_hash).where(
        _current_at(a, before, tenant), ~exists().where(same, _current_at(b, after, tenant)))
    for type_, object_id, old in connection.execute(removed):
        changes.append(VersionChange(type_, object_id, "removed", old, None))
    added = select(b.c.type, b.c.object_id, b.c.version_hash).where(
        _current_at(b, after, tenant), ~exists().where(same, _current_at(a, before, tenant)))
    for type_, object_id, new in connection.execute(added):
        changes.append(VersionChange(type_, object_id, "added", None, new))
    return sorted(changes, key=lambda change: (change.type, change.object_id))


def with_key(connection: Connection, tenant: str, value: str,
             type_: str | None = None) -> list[VersionRow]:
    """Versions whose UPN, mail or appId equals ``value``, ignoring case, oldest first.

    The lowercased terms index finds the candidates (a display name may share the term);
    the comparison on the key columns keeps only the real matches.
    """
    wanted = value.strip().lower()
    ids = select(search_terms.c.version_id).where(search_terms.c.term == wanted)
    statement = _rows().where(ov.c.id.in_(ids), tenants.c.name == tenant)
    if type_ is not None:
        statement = statement.where(ov.c.type == type_)
    rows = [_as_row(row) for row in connection.execute(
        statement.order_by(ov.c.type, ov.c.object_id, ov.c.first_seq))]
    return [row for row in rows
            if wanted in {(key or "").lower() for key in (row.upn, row.mail, row.app_id)}]


NAMES_CHUNK = 500


def names_at(connection: Connection, snapshot_id: str,
             object_ids: list[str]) -> dict[str, str | None]:
    """The display names of the given objects as a snapshot holds them (absent ones left
    out), looked up by id, a chunk at a time."""
    seq, tenant = snapshot_key(connection, snapshot_id)
    found: dict[str, str | None] = {}
    unique = sorted(set(object_ids))
    for start in range(0, len(unique), NAMES_CHUNK):
        chunk = unique[start:start + NAMES_CHUNK]
        statement = select(ov.c.object_id, ov.c.display_name).where(
            ov.c.object_id.in_(chunk), _current_at(ov, seq, tenant))
        found.update({object_id: name for object_id, name in connection.execute(statement)})
    return found
