"""The README's permission lists follow the object-type table, so they cannot drift."""

from __future__ import annotations

import re
from pathlib import Path

from entra_backup.domain.object_types import TYPES

README = Path(__file__).resolve().parents[2] / "README.md"


def _listed(text: str) -> list[str]:
    return [name.strip() for name in re.sub(r"\s+", " ", text).split(",") if name.strip()]


def test_the_readme_lists_every_write_permission_a_restore_needs_in_table_order() -> None:
    section = README.read_text().split("<!-- restore-permissions")[1]
    body = section.split("-->", 1)[1].split("<!-- end restore-permissions -->")[0]
    expected: list[str] = []
    for object_type in TYPES:
        expected += [p for p in object_type.write_permissions if p not in expected]
    assert _listed(body) == expected


def test_the_readme_lists_every_read_permission_a_backup_needs() -> None:
    text = re.sub(r"\s+", " ", README.read_text())
    listed = text.split("(all read-only: ")[1].split(")")[0]
    assert set(_listed(listed)) == {t.read_permission for t in TYPES}
