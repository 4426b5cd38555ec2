"""Reindex equivalence, concurrent opens, and clear errors for bad databases."""

from __future__ import annotations

import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from entra_backup.catalog import Catalog, CatalogError, reindex
from entra_backup.catalog.schema import alembic_config
from tests.catalog.tenant_history import History, user
from tests.catalog.test_catalog_queries import build_history, record_all

QUERIES = ["alice", "smi", "a", "contoso.com", "sales@", "5f1c", "åström", "bob.jones@", "zz"]


def answers(catalog: Catalog, history: History) -> list[Any]:
    """The result of every query the catalog answers, over the whole history."""
    results: list[Any] = []
    snapshot_ids = [info.id for info, _ in history.entries]
    for query in QUERIES:
        for mode in ("prefix", "substring"):
            results.append(catalog.search(query, mode=mode))  # type: ignore[arg-type]
            results.append(catalog.search(query, mode=mode, deleted_only=True))  # type: ignore[arg-type]
    for type_ in ("users", "groups", "applications"):
        results.append(catalog.search("", type=type_, limit=1000))
    for snapshot in snapshot_ids:
        results.append(list(catalog.versions_at(snapshot)))
    for before in snapshot_ids[:3]:
        results.extend(catalog.changed_between(before, after) for after in snapshot_ids[:3])
    results.extend(catalog.timeline(object_id) for object_id in ("u1", "u2", "u3", "g1", "a1"))
    results.append(catalog.snapshot_ids())
    return results


def test_reindex_rebuilds_a_catalog_that_answers_every_query_the_same(
        catalog: Catalog, new_catalog_url: Callable[[], str]) -> None:
    history = build_history()
    record_all(catalog, history)
    with Catalog.open(new_catalog_url()) as rebuilt:
        rebuilt.record(*History(entries=[history.entries[-1]]).entries[0])
        assert reindex(rebuilt, history) == len(history.entries)
        assert answers(rebuilt, history) == answers(catalog, history)
        reindex(rebuilt, history)
        assert answers(rebuilt, history) == answers(catalog, history), "idempotent"


def test_concurrent_opens_of_a_new_catalog_all_succeed(catalog_url: str) -> None:
    def open_and_record(index: int) -> int:
        history = History()
        history.take(f"tenant{index}", [user("u1", f"User {index}", f"u{index}@x.com")])
        info, versions = history.entries[0]
        with Catalog.open(catalog_url) as opened:
            opened.record(replace(info, id=f"{index:064x}"), versions)
            return len(opened.snapshot_ids())

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(open_and_record, range(4)))
    with Catalog.open(catalog_url) as reopened:
        assert len(reopened.snapshot_ids()) == 4


def test_a_schema_newer_than_the_code_is_refused(catalog_url: str) -> None:
    Catalog.open(catalog_url).close()
    engine = create_engine(catalog_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(CatalogError, match="revision 9999, newer than"):
        Catalog.open(catalog_url)


def test_a_malformed_url_is_a_clear_error() -> None:
    with pytest.raises(CatalogError, match="is not a database URL"):
        Catalog.open("not a url")
    with pytest.raises(CatalogError, match="unsupported catalog database 'mysql'"):
        Catalog.open("mysql://localhost/catalog")


def test_a_sqlite_file_in_a_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="unreachable or unusable: unable to open"):
        Catalog.open(f"sqlite:///{tmp_path / 'missing' / 'catalog.db'}")


def test_an_unreachable_postgresql_server_is_a_clear_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://entra:secret@127.0.0.1:{port}/catalog"
    with pytest.raises(CatalogError, match=f"entra:\\*\\*\\*@127.0.0.1:{port}/catalog is "
                       "unreachable") as raised:
        Catalog.open(url)
    assert "secret" not in str(raised.value)


def test_a_missing_postgresql_database_is_a_clear_error(postgres: Any) -> None:
    with pytest.raises(CatalogError, match='database "absent" does not exist'):
        Catalog.open(postgres.url("absent"))


def test_a_catalog_of_the_first_schema_is_upgraded_with_its_deleted_versions_indexed(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    with Catalog.open(url) as catalog:
        record_all(catalog, build_history())
        expected = catalog.search("carol", deleted_only=True)
    assert [row.object_id for row in expected] == ["u3"]
    engine = create_engine(url)
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
        assert connection.execute(text(
            "SELECT count(*) FROM sqlite_master WHERE name = 'deleted_fts'")).scalar() == 0
        command.upgrade(config, "0003")
    # Opened as it stands: revision 0004 would empty it (keyed hashes need a rebuild).
    with Catalog(engine) as catalog:
        assert catalog.search("carol", deleted_only=True) == expected


def test_revision_0004_empties_a_catalog_of_unkeyed_hashes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    with Catalog.open(url) as catalog:
        record_all(catalog, build_history())
        assert catalog.snapshot_ids()
    engine = create_engine(url)
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0003")
    engine.dispose()
    with Catalog.open(url) as catalog:
        assert catalog.snapshot_ids() == []
        assert catalog.search("") == []
        assert catalog.search("carol", deleted_only=True) == []
