"""Tenants, snapshots, object versions and search terms.

Revision ID: 0001
Revises:
Create Date: 2026-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from entra_backup.catalog.timestamps import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create the schema and the backend's text-search structures."""
    op.create_table(
        "tenants",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(255), nullable=False, unique=True),
    )
    op.create_table(
        "snapshots",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(128), nullable=False, unique=True),
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("time", UtcDateTime(), nullable=False),
        sa.Column("partial", sa.Boolean(), nullable=False),
        sa.Column("type_status", sa.JSON(), nullable=False),
    )
    op.create_index("ix_snapshots_tenant_time", "snapshots", ["tenant_id", "time"])
    _create_versions()
    _create_staging()
    _create_search()


def _create_versions() -> None:
    op.create_table(
        "object_versions",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("object_id", sa.String(255), nullable=False),
        sa.Column("version_hash", sa.String(128), nullable=False),
        sa.Column("first_seq", sa.Integer(), sa.ForeignKey("snapshots.seq"), nullable=False),
        sa.Column("last_seq", sa.Integer(), sa.ForeignKey("snapshots.seq"), nullable=True),
        sa.Column("deleted_at", UtcDateTime(), nullable=True),
        sa.Column("display_name", sa.Text(), nullable=True),
        sa.Column("upn", sa.Text(), nullable=True),
        sa.Column("mail", sa.Text(), nullable=True),
        sa.Column("app_id", sa.String(64), nullable=True),
        sa.Column("modified_time", UtcDateTime(), nullable=True),
    )
    op.create_index("ix_versions_object", "object_versions",
                    ["tenant_id", "type", "object_id", "last_seq"])
    op.create_index("ix_versions_object_id", "object_versions", ["object_id"])
    op.create_index("ix_versions_first", "object_versions", ["tenant_id", "first_seq"])
    op.create_index("ix_versions_modified", "object_versions", ["modified_time"])
    op.create_index("ix_versions_deleted", "object_versions", ["deleted_at"])
    op.create_index("ix_versions_order", "object_versions", ["type", "object_id", "first_seq"])


def _create_staging() -> None:
    op.create_table(
        "staged_versions",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("object_id", sa.String(255), nullable=False),
        sa.Column("version_hash", sa.String(128), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=True),
        sa.Column("upn", sa.Text(), nullable=True),
        sa.Column("mail", sa.Text(), nullable=True),
        sa.Column("app_id", sa.String(64), nullable=True),
        sa.Column("modified_time", UtcDateTime(), nullable=True),
        sa.Column("terms", sa.Text(), nullable=False),
    )
    op.create_index("ix_staged_object", "staged_versions", ["seq", "type", "object_id"])


def _create_search() -> None:
    op.create_table(
        "search_terms",
        sa.Column("version_id", _ID, sa.ForeignKey("object_versions.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("term", sa.Text(), nullable=False),
    )
    op.create_index("ix_search_terms_term", "search_terms", ["term", "version_id"])
    op.create_index("ix_search_terms_version", "search_terms", ["version_id"])
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("CREATE VIRTUAL TABLE search_fts USING fts5(term, tokenize='trigram')")
    elif dialect == "postgresql":
        # The default btree follows the database collation, which LIKE 'x%' cannot use.
        op.execute("CREATE INDEX ix_search_terms_prefix ON search_terms (term text_pattern_ops)")
        _create_trigram_index()


def _create_trigram_index() -> None:
    bind = op.get_bind()
    available = bind.execute(sa.text(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'"
    )).first()
    if available is None:
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE INDEX ix_search_terms_trgm ON search_terms USING gin (term gin_trgm_ops)")


def downgrade() -> None:
    """Drop everything this revision created."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS search_fts")
    for table in ("search_terms", "staged_versions", "object_versions", "snapshots", "tenants"):
        op.drop_table(table)
