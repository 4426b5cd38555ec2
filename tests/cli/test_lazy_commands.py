"""The command table stays true to the commands, and help imports none of them."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest
import typer

from entra_backup.cli.commands import COMMANDS
from entra_backup.cli.lazy import LazyCommand
from entra_backup.cli.main import main


def _own_help(target: str) -> str:
    module_name, attribute = target.split(":")
    found = getattr(__import__(module_name, fromlist=[attribute]), attribute)
    text = found.info.help if isinstance(found, typer.Typer) else inspect.getdoc(found)
    assert isinstance(text, str)
    return " ".join(text.split("\n\n")[0].split())


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_the_tables_help_line_is_the_commands_own(command: LazyCommand) -> None:
    assert command.short_help == _own_help(command.target)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_every_command_loads_and_prints_its_help(
        command: LazyCommand, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command.name, "--help"]) == 0
    assert "Usage: entra-backup " + command.name in capsys.readouterr().out


def test_top_level_help_lists_every_command_and_imports_none() -> None:
    probe = ("import sys\n"
             "from entra_backup.cli.main import main\n"
             "code = main(['--help'])\n"
             "loaded = sorted(m for m in sys.modules if m.startswith('entra_backup.')\n"
             "                and m.endswith('_cmd'))\n"
             "heavy = sorted(m for m in ('sqlalchemy', 'httpx', 'msal', 'boto3')\n"
             "               if m in sys.modules)\n"
             "print('LOADED', loaded, heavy, code)\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True)
    assert "LOADED [] [] 0" in result.stdout
    for command in COMMANDS:
        assert f"  {command.name} " in result.stdout
