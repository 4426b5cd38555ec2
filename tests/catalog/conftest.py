"""Catalog fixtures: every test runs against SQLite and against a real PostgreSQL server."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from entra_backup.catalog import Catalog
from tests.support.postgres import PostgresServer, running_postgres

_databases = itertools.count()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the session; fails (not skips) when it cannot start."""
    with running_postgres() as server:
        yield server


def _fresh_database(server: PostgresServer) -> str:
    name = f"catalog_{next(_databases)}"
    admin = f"postgresql://{server.user}@127.0.0.1:{server.port}/{server.database}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return server.url(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def new_catalog_url(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Make URLs of empty catalog databases on each backend."""
    files = itertools.count()
    if request.param == "sqlite":
        return lambda: f"sqlite:///{tmp_path / f'catalog{next(files)}.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return lambda: _fresh_database(server)


@pytest.fixture
def catalog_url(new_catalog_url: Callable[[], str]) -> str:
    """The URL of an empty catalog database."""
    return new_catalog_url()


@pytest.fixture
def catalog(catalog_url: str) -> Iterator[Catalog]:
    """An open, empty catalog."""
    with Catalog.open(catalog_url) as opened:
        yield opened
