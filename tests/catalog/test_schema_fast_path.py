"""An up-to-date catalog opens without Alembic; the revision constant is Alembic's head."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from entra_backup.catalog import Catalog
from entra_backup.catalog.schema import HEAD_REVISION, head_revision


def test_the_head_constant_is_the_migrations_head() -> None:
    assert head_revision() == HEAD_REVISION


def test_an_up_to_date_catalog_opens_without_importing_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    Catalog.open(url).close()  # created and migrated: Alembic runs here
    probe = ("import sys\n"
             "from entra_backup.catalog import Catalog\n"
             f"Catalog.open({url!r}).close()\n"
             "print('ALEMBIC', any(m.startswith('alembic') for m in sys.modules))\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True)
    assert "ALEMBIC False" in result.stdout
