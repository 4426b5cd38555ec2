"""The catalog's tables (SQLAlchemy Core); the Alembic revisions create the same schema.

``object_versions`` holds one row per distinct content of an object: it is current from
``first_seq`` up to ``last_seq`` (inclusive; NULL while it is still current). A row closed
with ``deleted_at`` set is the last version of an object that disappeared from a complete
backup of its type. ``search_terms`` holds each version's lowercased display name, UPN,
mail and appId for prefix look-ups (and trigram substring search on PostgreSQL);
SQLite additionally keeps an FTS5 trigram table ``search_fts`` created by the migration.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from entra_backup.catalog.timestamps import UtcDateTime

metadata = MetaData()

tenants = Table(
    "tenants",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(255), nullable=False, unique=True),
)

snapshots = Table(
    "snapshots",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(128), nullable=False, unique=True),
    Column("tenant_id", Integer, ForeignKey("tenants.id"), nullable=False),
    Column("time", UtcDateTime(), nullable=False),
    Column("partial", Boolean, nullable=False),
    Column("type_status", JSON, nullable=False),
    Index("ix_snapshots_tenant_time", "tenant_id", "time"),
)

object_versions = Table(
    "object_versions",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("tenant_id", Integer, ForeignKey("tenants.id"), nullable=False),
    Column("type", String(64), nullable=False),
    Column("object_id", String(255), nullable=False),
    Column("version_hash", String(128), nullable=False),
    Column("first_seq", Integer, ForeignKey("snapshots.seq"), nullable=False),
    Column("last_seq", Integer, ForeignKey("snapshots.seq"), nullable=True),
    Column("deleted_at", UtcDateTime(), nullable=True),
    Column("display_name", Text, nullable=True),
    Column("upn", Text, nullable=True),
    Column("mail", Text, nullable=True),
    Column("app_id", String(64), nullable=True),
    Column("modified_time", UtcDateTime(), nullable=True),
    # When this content appeared: the document's own modification time when it moved
    # with this version, else the time of the first snapshot holding it (revision 0003).
    Column("changed_at", UtcDateTime(), nullable=True),
    Index("ix_versions_object", "tenant_id", "type", "object_id", "last_seq"),
    Index("ix_versions_object_id", "object_id"),
    Index("ix_versions_first", "tenant_id", "first_seq"),
    Index("ix_versions_modified", "modified_time"),
    Index("ix_versions_deleted", "deleted_at"),
    Index("ix_versions_changed", "changed_at"),
    # Search answers in (type, object id, first snapshot) order; with this index the
    # database walks matches in that order and stops at the limit instead of sorting all.
    Index("ix_versions_order", "type", "object_id", "first_seq"),
)

search_terms = Table(
    "search_terms",
    metadata,
    Column("version_id", BigInteger().with_variant(Integer, "sqlite"),
           ForeignKey("object_versions.id", ondelete="CASCADE"), nullable=False),
    Column("term", Text, nullable=False),
    Index("ix_search_terms_term", "term", "version_id"),
    Index("ix_search_terms_version", "version_id"),
)

staged_versions = Table(
    "staged_versions",
    metadata,
    Column("seq", Integer, nullable=False),
    Column("type", String(64), nullable=False),
    Column("object_id", String(255), nullable=False),
    Column("version_hash", String(128), nullable=False),
    Column("display_name", Text, nullable=True),
    Column("upn", Text, nullable=True),
    Column("mail", Text, nullable=True),
    Column("app_id", String(64), nullable=True),
    Column("modified_time", UtcDateTime(), nullable=True),
    Column("terms", Text, nullable=False),
    Index("ix_staged_object", "seq", "type", "object_id"),
)
