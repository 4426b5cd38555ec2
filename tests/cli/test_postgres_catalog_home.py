"""A home whose catalog is a PostgreSQL database: init checks the server before creating
anything, and the passphrase gates the catalog there as it does for SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from entra_backup.config import PASSPHRASE_VARIABLE
from tests.cli.conftest_workspace import Cli, assert_one_line_error, weak_passphrase_keys
from tests.support.postgres import PostgresServer, running_postgres


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    with running_postgres() as server:
        yield server


@pytest.fixture(autouse=True)
def _weak_keys() -> Iterator[None]:
    with weak_passphrase_keys():
        yield


def test_a_postgresql_catalog_is_probed_then_gated(postgres: PostgresServer, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    admin = postgres.url().replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute("CREATE DATABASE home_catalog")
    cli = Cli.for_home(tmp_path / "home", capsys=capsys)
    missing = cli.run("init", "--catalog-url", postgres.url("no_such_database"))
    assert_one_line_error(missing, 12, contains=("no_such_database",))
    assert not (tmp_path / "home" / "config.toml").exists()
    created = cli.run("init", "--catalog-url", postgres.url("home_catalog"), "--json")
    assert created.code == 0, str(created)
    assert created.err == "", str(created)
    assert cli.json("reindex") == {"snapshots": 0, "damaged": 0, "damaged_objects": []}
    wrong = cli.with_env(**{PASSPHRASE_VARIABLE: "not the passphrase"})
    assert_one_line_error(wrong.run("reindex"), 21, contains=("wrong passphrase",))


def test_init_never_prints_the_catalog_password(postgres: PostgresServer, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    admin = postgres.url().replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute("CREATE DATABASE password_catalog")
    # The test server trusts loopback, so the password is carried but never checked.
    url = postgres.url("password_catalog").replace(f"//{postgres.user}@",
                                                   f"//{postgres.user}:s3cret-pw@")
    cli = Cli.for_home(tmp_path / "home", capsys=capsys)
    refused = cli.run("init", "--catalog-url", url, "--json")
    # Refused: ps shows it, and config.toml would keep it (test_postgres_catalog_password).
    line = assert_one_line_error(refused, 2, contains=("PGPASSWORD",))
    assert "s3cret-pw" not in line
    created = cli.run("init", "--catalog-url", postgres.url("password_catalog"), "--json")
    assert created.code == 0, str(created)
    assert created.json()["catalog"].startswith("postgresql+psycopg://")
