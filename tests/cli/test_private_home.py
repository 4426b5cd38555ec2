"""The catalog is no way around the passphrase, and the home is its owner's alone.

End to end against the emulator over HTTPS: a home backed up once, then every command
that reads tenant data run with a wrong and with a missing passphrase; the modes of every
file the product wrote; an old home readable by others made private; and the passphrase
``init`` accepts.
"""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from entra_backup.config import PASSPHRASE_VARIABLE
from tests.cli.conftest_workspace import (
    ERROR,
    WARNING,
    Cli,
    assert_one_line_error,
    tenant_add_args,
    tree,
    weak_passphrase_keys,
)
from tests.support.live_emulator import LiveEmulator

TENANT = "contoso"
SECRET_VARIABLE = "CONTOSO_SECRET"
OTHERS = 0o077


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveEmulator]:
    with LiveEmulator.running(tmp_path_factory.mktemp("private-home-emulator"), users=8,
                                  seed=11, throttle="off") as emulator:
        yield emulator


@pytest.fixture(scope="module", autouse=True)
def _weak_keys() -> Iterator[None]:
    with weak_passphrase_keys():
        yield


@pytest.fixture(scope="module")
def workspace(live: LiveEmulator, tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """An initialised home with the tenant registered and backed up once."""
    cli = Cli.for_home(tmp_path_factory.mktemp("private-home") / "home",
                       {SECRET_VARIABLE: live.client_secret})
    for args in (["init"], tenant_add_args(live, TENANT, SECRET_VARIABLE),
                 ["backup", TENANT, "--json"]):
        result = cli.run(*args)
        assert result.code == 0, str(result)
    return cli


@pytest.fixture
def cli(workspace: Cli, capsys: pytest.CaptureFixture[str]) -> Cli:
    return workspace.with_capsys(capsys)


def _a_user(cli: Cli) -> dict[str, str]:
    """A user the catalog knows, read with the right passphrase."""
    users = [row for row in cli.json("search", TENANT, "@", "--type", "users")
             if row["userPrincipalName"]]
    assert users
    return users[0]


def _reading_commands(cli: Cli) -> list[list[str]]:
    """Every command that reads tenant data, with arguments that succeed (or at least get
    past the passphrase) when the passphrase is right."""
    user = _a_user(cli)
    snapshot = cli.json("snapshots", TENANT)[-1]["id"]
    return [
        ["search", TENANT, "@"], ["search", TENANT, user["displayName"], "--json"],
        ["show", TENANT, user["id"]], ["ls", TENANT, "latest"], ["snapshots", TENANT],
        ["diff", TENANT, snapshot, snapshot], ["diff", TENANT, snapshot, "--object", user["id"]],
        ["export", TENANT, "-o", str(cli.home.parent / "export.zip")],
        ["restore", TENANT, "--snapshot", "latest", "--dry-run"],
        ["check"], ["reindex"], ["backup", TENANT],
    ]


def test_the_reading_commands_work_with_the_passphrase(cli: Cli) -> None:
    """The commands below are refused for the passphrase alone, not for their arguments."""
    for command in _reading_commands(cli):
        result = cli.run(*command)
        assert result.code == 0, str(result)
    (cli.home.parent / "export.zip").unlink()


@pytest.mark.parametrize(("passphrase", "code", "words"), [
    ("not the passphrase", 21, "wrong passphrase"),
    (None, 3, "no passphrase"),
], ids=["wrong", "missing"])
def test_every_reading_command_needs_the_passphrase_before_the_catalog(
        cli: Cli, passphrase: str | None, code: int, words: str) -> None:
    user = _a_user(cli)
    assert user["userPrincipalName"] in cli.run("search", TENANT, "@").out
    commands = _reading_commands(cli)
    files = tree(cli.home / "repository")
    locked = cli.with_env(**{PASSPHRASE_VARIABLE: passphrase})
    for command in [*commands, ["restore-report", "0000"]]:
        result = locked.run(*command)
        assert_one_line_error(result, code, contains=(words,))
        assert user["userPrincipalName"] not in result.err, str(result)
    assert tree(cli.home / "repository") == files
    assert not (cli.home.parent / "export.zip").exists()


def _loose(path: Path) -> list[str]:
    """Paths under ``path`` (and itself) that a user other than the owner could read."""
    found = [path, *path.rglob("*")]
    return [f"{oct(stat.S_IMODE(p.lstat().st_mode))} {p}" for p in found
            if stat.S_IMODE(p.lstat().st_mode) & OTHERS]


def test_every_file_and_folder_of_the_home_is_its_owners_alone(cli: Cli) -> None:
    assert cli.run("restore", TENANT, "--snapshot", "latest", "--dry-run").code == 0
    names = {p.name for p in cli.home.iterdir()}
    assert {"config.toml", "tenants.json", "catalog.db", "repository"} <= names
    assert stat.S_IMODE(cli.home.stat().st_mode) == 0o700
    assert stat.S_IMODE((cli.home / "catalog.db").stat().st_mode) == 0o600
    assert _loose(cli.home) == []


def test_a_home_others_can_read_is_made_private_and_said_once(cli: Cli) -> None:
    catalog = cli.home / "catalog.db"
    cli.home.chmod(0o755)
    catalog.chmod(0o644)
    (cli.home / "config.toml").chmod(0o640)
    first = cli.run("snapshots", TENANT, "--json")
    assert first.code == 0, str(first)
    assert first.json()
    assert len(first.err_lines) == 1, str(first)
    assert first.err_lines[0].startswith(WARNING), str(first)
    assert str(cli.home) in first.err_lines[0]
    assert stat.S_IMODE(cli.home.stat().st_mode) == 0o700
    assert stat.S_IMODE(catalog.stat().st_mode) == 0o600
    assert stat.S_IMODE((cli.home / "config.toml").stat().st_mode) == 0o600
    assert cli.json("snapshots", TENANT)  # asserts nothing more on stderr


def test_a_short_passphrase_is_accepted_with_a_warning(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    cli = Cli.for_home(tmp_path / "home", capsys=capsys).with_env(
        **{PASSPHRASE_VARIABLE: "eleven char"})
    result = cli.run("init", "--json")
    assert result.code == 0, str(result)
    assert result.json()["key_provider"] == "passphrase"
    assert len(result.err_lines) == 1, str(result)
    assert result.err_lines[0].startswith(WARNING) and "12" in result.err_lines[0]
    assert cli.json("check")["ok"]


def test_a_long_passphrase_gets_no_warning(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    cli = Cli.for_home(tmp_path / "home", capsys=capsys).with_env(
        **{PASSPHRASE_VARIABLE: "twelve chars"})
    result = cli.run("init", "--json")
    assert result.code == 0, str(result)
    assert result.err == "", str(result)


@pytest.mark.parametrize(("content", "code", "words"), [
    ("", 2, "empty"), ("   \n", 2, "blank"),
], ids=["empty-file", "blank"])
def test_an_empty_passphrase_is_refused_and_nothing_is_created(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, code: int,
        words: str) -> None:
    secret = tmp_path / "passphrase.txt"
    secret.write_text(content, encoding="utf-8")
    cli = Cli.for_home(tmp_path / "home", capsys=capsys)
    result = cli.run("--passphrase-file", str(secret), "init")
    assert_one_line_error(result, code, contains=(words,))
    assert not (tmp_path / "home").exists()


def test_an_unset_passphrase_is_refused_by_init_and_nothing_is_created(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli = Cli.for_home(tmp_path / "home", capsys=capsys).with_env(
        **{PASSPHRASE_VARIABLE: None})
    line = assert_one_line_error(cli.run("init"), 3, contains=("no passphrase",))
    assert line.startswith(ERROR)
    assert not (tmp_path / "home").exists()
