"""``object_versions.changed_at``: when each version's content appeared.

``search --from/--to`` filtered on the modified time, which for users and groups is their
creation time, so a user changed inside the range was missed. See
``entra_backup.catalog.change_time`` for the rule; existing versions are filled here.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from entra_backup.catalog.change_time import fill_change_times
from entra_backup.catalog.timestamps import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the column and its index, and fill it for every recorded version."""
    op.add_column("object_versions", sa.Column("changed_at", UtcDateTime(), nullable=True))
    op.execute(fill_change_times())
    op.create_index("ix_versions_changed", "object_versions", ["changed_at"])


def downgrade() -> None:
    """Drop them."""
    op.drop_index("ix_versions_changed", "object_versions")
    op.drop_column("object_versions", "changed_at")
