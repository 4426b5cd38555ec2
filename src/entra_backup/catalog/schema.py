"""Bring a catalog database to the newest schema with Alembic, refusing newer ones.

Alembic is imported when a catalog is opened, not with this module: it costs about 0.3 s,
which every command would otherwise pay at start-up (``entra-backup --version`` too).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from entra_backup.catalog.engine import safe_url, write_transaction
from entra_backup.catalog.errors import CatalogError

if TYPE_CHECKING:
    from alembic.config import Config

_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Any constant works; it only has to be the same for every process migrating a catalog.
_PG_MIGRATION_LOCK = 0x656E7472


def alembic_config() -> Config:
    """An Alembic configuration pointing at the packaged migrations."""
    from alembic.config import Config  # noqa: PLC0415 - see the module docstring

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest revision this version of the code knows."""
    from alembic.script import ScriptDirectory  # noqa: PLC0415 - see the module docstring

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise CatalogError("the catalog migrations are missing from the installation")
    return head


def upgrade_to_head(engine: Engine) -> None:
    """Apply missing revisions in one transaction; concurrent openers wait for each other."""
    from alembic import command  # noqa: PLC0415 - see the module docstring
    from alembic.script import ScriptDirectory  # noqa: PLC0415

    config = alembic_config()
    known = {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
    with write_transaction(engine) as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                               {"key": _PG_MIGRATION_LOCK})
        current = _current_revision(connection)
        if current is not None and current not in known:
            raise CatalogError(
                f"catalog database {safe_url(engine.url)} has schema revision {current}, "
                "newer than this version of entra-backup understands; upgrade entra-backup"
            )
        if current == head_revision():
            return
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def _current_revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext  # noqa: PLC0415

    return MigrationContext.configure(connection).get_current_revision()
