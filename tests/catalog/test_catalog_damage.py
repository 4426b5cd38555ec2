"""A rebuild that fails leaves the old catalog answering; a damaged SQLite file is named as
such (CatalogDamaged) and can be moved aside with its companions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from entra_backup.catalog import Catalog, CatalogDamaged, ObjectVersion, SnapshotInfo, reindex
from entra_backup.catalog.sqlite_files import set_aside
from tests.catalog.tenant_history import History
from tests.catalog.test_catalog_queries import build_history, record_all


class FailingHalfWay(History):
    """A history whose last snapshot cannot be read (a damaged repository)."""

    def versions(self, snapshot: SnapshotInfo) -> Iterator[ObjectVersion]:
        if snapshot.id == self.entries[-1][0].id:
            raise OSError("the repository went away")
        yield from super().versions(snapshot)


def test_a_reindex_that_fails_half_way_leaves_the_old_catalog(catalog: Catalog) -> None:
    history = build_history()
    record_all(catalog, history)
    before = (catalog.snapshot_ids(), catalog.search("", limit=1000))
    with pytest.raises(OSError, match="went away"):
        reindex(catalog, FailingHalfWay(entries=list(history.entries)))
    assert (catalog.snapshot_ids(), catalog.search("", limit=1000)) == before
    assert before[1], "the catalog had something to lose"


def test_a_sqlite_rebuild_leaves_no_file_behind(tmp_path: Path) -> None:
    history = build_history()
    with Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}") as catalog:
        record_all(catalog, history)
        with pytest.raises(OSError):
            reindex(catalog, FailingHalfWay(entries=list(history.entries)))
        assert reindex(catalog, history) == len(history.entries)
        assert catalog.snapshot_ids() == [info.id for info, _ in history.entries]
    assert not list(tmp_path.glob("*rebuild*"))


def test_a_file_that_is_not_a_database_is_catalog_damaged(tmp_path: Path) -> None:
    path = tmp_path / "catalog.db"
    path.write_bytes(b"junk " * 1000)
    with pytest.raises(CatalogDamaged, match="damaged"):
        Catalog.open(f"sqlite:///{path}")


def test_set_aside_moves_the_database_and_its_companions(tmp_path: Path) -> None:
    path = tmp_path / "catalog.db"
    for name, data in (("catalog.db", b"db"), ("catalog.db-wal", b"wal"),
                       ("catalog.db-shm", b"shm")):
        (tmp_path / name).write_bytes(data)
    moved = set_aside(path)
    assert moved.name.startswith("catalog.db.broken-")
    assert sorted(item.name for item in tmp_path.iterdir()) == sorted(
        [moved.name, f"{moved.name}-wal", f"{moved.name}-shm"])
    assert Path(f"{moved}-wal").read_bytes() == b"wal"
