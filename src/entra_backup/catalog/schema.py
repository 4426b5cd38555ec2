"""Bring a catalog database to the newest schema with Alembic, refusing newer ones.

Alembic is imported only when a catalog is not at :data:`HEAD_REVISION` (a new or an older
catalog): it costs about 0.3 s, which every command reading an up-to-date catalog would
otherwise pay at start-up (docs/decisions.md, D17). A test keeps the constant equal to the
migrations' head.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from entra_backup.catalog.engine import read_transaction, safe_url, write_transaction
from entra_backup.catalog.errors import CatalogError

if TYPE_CHECKING:
    from alembic.config import Config

_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
HEAD_REVISION = "0004"
"""The newest migration's revision (``tests/catalog`` checks it against Alembic's head)."""
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
    if _stored_revision(engine) == HEAD_REVISION:
        return
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


def _stored_revision(engine: Engine) -> str | None:
    """The catalog's revision read with plain SQL (no Alembic), or None when unknown."""
    try:
        with read_transaction(engine) as connection:
            row = connection.execute(text("SELECT version_num FROM alembic_version")).first()
    except (CatalogError, SQLAlchemyError):
        return None  # no version table yet: a new catalog, which Alembic creates
    return str(row[0]) if row is not None else None
