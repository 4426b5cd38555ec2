"""Keyed version hashes: the recorded rows are dropped, to be rebuilt from the repository.

Until this revision ``object_versions.version_hash`` was the unkeyed SHA-256 of a
document, which lets anyone who can read the catalog (it is not encrypted) confirm a
guessed document. New hashes are keyed with a key derived from the repository's master
key, which a migration does not hold, and computing them needs every document of every
snapshot, which only the repository holds: re-hashing is a rebuild. So this revision
empties the tables, and the first command that opens the catalog with the repository key
finds it behind and records every snapshot again (``services/catalog_sync.catch_up``).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Children before parents (foreign keys).
_TABLES = ("search_terms", "staged_versions", "object_versions", "snapshots", "tenants")


def upgrade() -> None:
    """Remove every recorded row; the schema is unchanged."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DELETE FROM search_fts")
        op.execute("DELETE FROM deleted_fts")
    for table in _TABLES:
        op.execute(f"DELETE FROM {table}")


def downgrade() -> None:
    """Nothing to undo: an older version rebuilds the emptied catalog the same way."""
