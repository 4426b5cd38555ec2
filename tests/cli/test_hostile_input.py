"""Every command of the CLI, fed hostile input, ends in one line and never a traceback.

The commands are enumerated from the Typer app, so a command added later is covered
without touching this file. Each gets, in every argument and option, paths that are files,
paths under a file, unreadable folders, empty strings, 5,000-character names and non-UTF-8
bytes; and the global ``--home`` and ``--passphrase-file`` get the same. Commands run
in-process through ``main(argv)``; the two that start servers (``demo``, ``emulator
serve``) and a sample of the others run as subprocesses.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer

# Typer 0.29 vendors click; its command class is this one.
from typer._click import core as click
from typer.core import TyperArgument, TyperGroup, TyperOption

from entra_backup.cli.main import app
from entra_backup.config import HOME_VARIABLE, PASSPHRASE_VARIABLE
from tests.cli.conftest_workspace import (
    ERROR,
    PASSPHRASE,
    WARNING,
    Cli,
    Result,
    weak_passphrase_keys,
)

TENANT = "hostile"
# They serve until interrupted when their arguments are good: run as subprocesses only.
SERVERS = {("demo",), ("emulator", "serve")}


def _commands(group: click.Command, prefix: tuple[str, ...] = ()) -> Iterator[
        tuple[tuple[str, ...], click.Command]]:
    # Through click's group API, which loads the commands the CLI imports lazily.
    if not isinstance(group, TyperGroup):
        yield prefix, group
        return
    context = click.Context(group)
    for name in sorted(group.list_commands(context)):
        command = group.get_command(context, name)
        assert command is not None, name
        yield from _commands(command, (*prefix, name))


COMMANDS = dict(_commands(typer.main.get_group(app)))


def _hostile_values(root: Path) -> dict[str, str]:
    a_file = root / "a-file"
    a_file.write_text("not a folder\n", encoding="utf-8")
    values = {
        "file": str(a_file),
        "under-file": str(a_file / "sub" / "deeper"),
        "empty": "",
        "long": "n" * 5000,
        "non-utf8": os.fsdecode(b"caf\xe9-\xff\xfe"),
    }
    if os.geteuid() != 0:  # root reads any folder, so the case would prove nothing
        locked = root / "locked"
        (locked / "inside").mkdir(parents=True)
        locked.chmod(0o000)
        values["unreadable"] = str(locked / "inside")
    return values


def _argv(command: click.Command, value: str, *, every_option: bool,
          tenant: str | None) -> list[str]:
    """The command line with ``value`` in every argument (the tenant name in the first
    when ``tenant`` is given) and in the required options, or in every option."""
    argv: list[str] = []
    for param in command.params:
        if isinstance(param, TyperArgument):
            first = tenant is not None and not argv and param.name == "name"
            argv.append(tenant if first and tenant is not None else value)
        elif (isinstance(param, TyperOption) and not param.is_flag and not param.count
              and (param.required or every_option)):
            argv += [param.opts[0], value]
    return argv


def _assert_clean(result: Result) -> None:
    """No traceback, no uncaught-exception exit code, and at most one error line; and no
    home made of the working directory (an empty ``--home`` is not ``.``)."""
    assert not Path("config.toml").exists(), str(result)
    assert "Traceback" not in result.err, str(result)
    assert result.code != 1, str(result)
    problems = [line for line in result.err_lines if not line.startswith(WARNING)]
    if result.code != 0:
        assert len(problems) == 1, str(result)
        assert problems[0].startswith(ERROR), str(result)
        assert len(problems[0]) < 12_000, str(result)


@pytest.fixture(scope="module", autouse=True)
def _weak_keys() -> Iterator[None]:
    with weak_passphrase_keys():
        yield


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The user's home folder and working directory of every run: an empty --home or a
    relative path must not land in the real ones."""
    return tmp_path_factory.mktemp("hostile-sandbox")


@pytest.fixture(autouse=True)
def _in_sandbox(sandbox: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(sandbox)
    monkeypatch.setenv("HOME", str(sandbox))


def _cli(home: Path, sandbox: Path) -> Cli:
    return Cli.for_home(home).with_env(HOME=str(sandbox))


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, sandbox: Path) -> Cli:
    """An initialised home with a tenant whose secret variable is unset (so no command
    reaches the network)."""
    cli = _cli(tmp_path_factory.mktemp("hostile") / "home", sandbox)
    for args in (["init"], ["tenant", "add", TENANT, "--tenant-id",
                            "11111111-1111-1111-1111-111111111111", "--client-id",
                            "22222222-2222-2222-2222-222222222222", "--client-secret-env",
                            "HOSTILE_SECRET_NOT_SET", "--graph-url",
                            "https://127.0.0.1:9/v1.0"]):
        result = cli.run(*args)
        assert result.code == 0, str(result)
    return cli


@pytest.fixture(scope="module")
def values(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return _hostile_values(tmp_path_factory.mktemp("hostile-values"))


def test_the_commands_are_enumerated_from_the_app() -> None:
    names = {" ".join(path) for path in COMMANDS}
    assert {"init", "search", "restore-report", "tenant add", "emulator serve"} <= names
    assert set(COMMANDS) >= SERVERS


@pytest.mark.parametrize("path", sorted(set(COMMANDS) - SERVERS), ids=" ".join)
def test_hostile_arguments_get_one_line(path: tuple[str, ...], home: Cli,
                                        values: dict[str, str], tmp_path: Path,
                                        sandbox: Path) -> None:
    command = COMMANDS[path]
    for label, value in values.items():
        for every_option in (False, True):
            for tenant in (None, TENANT):
                argv = [*path, *_argv(command, value, every_option=every_option,
                                      tenant=tenant)]
                _assert_clean(home.run(*argv))
                fresh = _cli(tmp_path / f"fresh-{label}-{every_option}-{tenant}", sandbox)
                _assert_clean(fresh.run(*argv))


@pytest.mark.parametrize("path", sorted(set(COMMANDS) - SERVERS), ids=" ".join)
def test_hostile_global_options_get_one_line(path: tuple[str, ...], home: Cli,
                                             values: dict[str, str]) -> None:
    command = COMMANDS[path]
    argv = [*path, *_argv(command, "x", every_option=False, tenant=TENANT)]
    for value in values.values():
        for option in ("--home", "--passphrase-file"):
            _assert_clean(home.run(option, value, *argv))
        _assert_clean(home.with_env(**{HOME_VARIABLE: value}).run(*argv))


def _subprocess(argv: list[str], home: Path, sandbox: Path) -> Result:
    env = {**os.environ, HOME_VARIABLE: str(home), PASSPHRASE_VARIABLE: PASSPHRASE,
           "HOME": str(sandbox)}
    done = subprocess.run([sys.executable, "-m", "entra_backup.cli.main", *argv],
                          capture_output=True, env=env, timeout=120, check=False,
                          cwd=sandbox)
    return Result(tuple(argv), done.returncode,
                  done.stdout.decode("utf-8", "backslashreplace"),
                  done.stderr.decode("utf-8", "backslashreplace"))


@pytest.mark.slow
def test_hostile_input_through_a_real_process(home: Cli, values: dict[str, str],
                                              tmp_path: Path, sandbox: Path) -> None:
    """The real interpreter's stdout and stderr (strict encodings, not StringIO), and the
    commands that would serve forever given good arguments."""
    runs = [
        ["emulator", "serve", "--state-dir", values["under-file"]],
        ["demo", "--home", values["file"], "--no-serve", "--users", "5"],
        ["demo", "--home", values["under-file"], "--no-serve", "--users", "5"],
        ["--home", values["file"], "init"],
        ["--home", str(tmp_path / "new"), "init", "--repo", values["file"]],
        ["search", values["non-utf8"], "@"],
        ["tenant", "add", values["non-utf8"], "--tenant-id", values["non-utf8"],
         "--client-id", values["long"], "--client-secret-env", values["non-utf8"]],
        ["export", TENANT, "-o", values["under-file"]],
    ]
    for argv in runs:
        result = _subprocess(argv, home.home, sandbox)
        _assert_clean(result)
        assert result.code != 0, str(result)
