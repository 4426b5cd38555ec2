"""A PostgreSQL catalog whose role needs a password: the URL on the command line carries
none (``ps`` would show it), the password comes from the environment variable
``init --catalog-password-env`` names, and config.toml keeps only that name.

The throwaway server trusts loopback for its own user; here one role of its own is made
to authenticate with SCRAM, so a missing or wrong password really fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.cli.conftest_workspace import (
    WARNING,
    Cli,
    assert_one_line_error,
    weak_passphrase_keys,
)
from tests.support.postgres import HOST, PostgresServer, running_postgres

ROLE, PASSWORD = "keeper", "Keeper-pw-7d1"
VARIABLE = "CATALOG_DB_PASSWORD"


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    with running_postgres() as server:
        admin = server.url().replace("+psycopg", "")
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}'")
            hba = Path(str(connection.execute("SHOW hba_file").fetchone()[0]))  # type: ignore[index]
            hba.write_text(f"host all {ROLE} {HOST}/32 scram-sha-256\n" + hba.read_text())
            connection.execute("SELECT pg_reload_conf()")
        yield server


@pytest.fixture(autouse=True)
def _weak_keys() -> Iterator[None]:
    with weak_passphrase_keys():
        yield


_databases = iter(range(1000))


def _database(server: PostgresServer) -> str:
    """A new database the role owns; its URL for the role, without a password."""
    name = f"keeper_{next(_databases)}"
    with psycopg.connect(server.url().replace("+psycopg", ""), autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name} OWNER {ROLE}")
    return f"postgresql://{ROLE}@{HOST}:{server.port}/{name}"


def test_the_role_needs_its_password(postgres: PostgresServer, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    cli = Cli.for_home(tmp_path / "home", capsys=capsys)
    result = cli.run("init", "--catalog-url", _database(postgres))
    assert_one_line_error(result, 12, contains=("password",))
    assert not (tmp_path / "home").exists()


def test_a_password_on_the_command_line_is_refused_and_nothing_is_created(
        postgres: PostgresServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = _database(postgres).replace(f"//{ROLE}@", f"//{ROLE}:{PASSWORD}@")
    cli = Cli.for_home(tmp_path / "home", capsys=capsys)
    line = assert_one_line_error(cli.run("init", "--catalog-url", url), 2,
                                 contains=("ps", "--catalog-password-env"))
    assert PASSWORD not in line
    assert not (tmp_path / "home").exists()


def test_the_password_comes_from_the_variable_config_toml_names(
        postgres: PostgresServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = _database(postgres)
    home = tmp_path / "home"
    cli = Cli.for_home(home, capsys=capsys)
    unset = cli.run("init", "--catalog-url", url, "--catalog-password-env", VARIABLE)
    assert_one_line_error(unset, 43, contains=(VARIABLE, "not set"))
    assert not home.exists()

    cli = cli.with_env(**{VARIABLE: PASSWORD})
    created = cli.run("init", "--catalog-url", url, "--catalog-password-env", VARIABLE,
                      "--json")
    assert created.code == 0 and created.err == "", str(created)
    config = (home / "config.toml").read_text()
    assert f'password_env = "{VARIABLE}"' in config
    assert PASSWORD not in config and PASSWORD not in created.out
    assert cli.json("reindex") == {"snapshots": 0, "damaged": 0, "damaged_objects": []}

    missing = cli.with_env(**{VARIABLE: None}).run("reindex")
    assert_one_line_error(missing, 43, contains=(VARIABLE,))
    wrong = cli.with_env(**{VARIABLE: "not-the-password"}).run("reindex")
    line = assert_one_line_error(wrong, 12, contains=(ROLE,))
    assert "not-the-password" not in line


def test_a_password_kept_in_config_toml_by_an_earlier_version_is_named(
        postgres: PostgresServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = _database(postgres)
    home = tmp_path / "home"
    cli = Cli.for_home(home, {VARIABLE: PASSWORD}, capsys)
    created = cli.run("init", "--catalog-url", url, "--catalog-password-env", VARIABLE)
    assert created.code == 0, str(created)
    config = home / "config.toml"
    config.write_text(config.read_text().replace(f"//{ROLE}@", f"//{ROLE}:{PASSWORD}@")
                      .replace(f'password_env = "{VARIABLE}"\n', ""))
    result = cli.with_env(**{VARIABLE: None}).run("reindex", "--json")
    assert result.code == 0, str(result)
    assert len(result.err_lines) == 1, str(result)
    assert result.err_lines[0].startswith(f"{WARNING}config.toml holds the catalog "
                                          "database's password in clear")
    assert PASSWORD not in result.err


def test_a_sqlite_catalog_takes_no_password_variable(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli = Cli.for_home(tmp_path / "home", capsys=capsys)
    result = cli.run("init", "--catalog-url", f"sqlite:///{tmp_path / 'c.db'}",
                     "--catalog-password-env", VARIABLE)
    assert_one_line_error(result, 2, contains=("SQLite",))
    alone = cli.run("init", "--catalog-password-env", VARIABLE)
    assert_one_line_error(alone, 2, contains=("--catalog-url",))
    assert not (tmp_path / "home").exists()
