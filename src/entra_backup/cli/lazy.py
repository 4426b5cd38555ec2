"""Commands loaded when they run: ``entra-backup --help`` and each command import only what
they use.

A command module imports its services, and through them SQLAlchemy, httpx, MSAL and the
cryptography stack: importing every module to print the top-level help cost about 0.6 s
(docs/decisions.md, D17). The group below knows each command's module, attribute and one
line of help from :data:`entra_backup.cli.commands.COMMANDS`; it imports a module only when
click asks for that command, and prints the top-level help from the table alone
(``tests/cli/test_lazy_commands.py`` keeps the table's help equal to the commands' own).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import typer
import typer.main
from typer._click import Command, Context, HelpFormatter
from typer.core import TyperGroup


@dataclass(frozen=True)
class LazyCommand:
    """Where a command lives: ``module:attribute`` (a function, or a Typer sub-app)."""

    name: str
    target: str
    short_help: str

    def load(self) -> Command:
        """Import the command's module and build its click command."""
        module_name, attribute = self.target.split(":")
        found = getattr(importlib.import_module(module_name), attribute)
        if isinstance(found, typer.Typer):
            found.rich_markup_mode = None  # plain help, as the top level prints it
            group = typer.main.get_group(found)
            group.name = self.name
            return group
        single = typer.Typer(add_completion=False, rich_markup_mode=None,
                             pretty_exceptions_enable=False)
        single.command(self.name)(found)
        command = typer.main.get_command(single)
        command.name = self.name
        return command


class LazyGroup(TyperGroup):
    """A group whose commands come from a table and are imported on first use."""

    lazy: tuple[LazyCommand, ...] = ()

    def list_commands(self, ctx: Context) -> list[str]:
        return [command.name for command in self.lazy]

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        for command in self.lazy:
            if command.name == cmd_name:
                return command.load()
        return None

    def format_commands(self, ctx: Context, formatter: HelpFormatter) -> None:
        """The command list from the table, without importing a single command."""
        rows = [(command.name, command.short_help) for command in self.lazy]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def lazy_group(commands: tuple[LazyCommand, ...]) -> type[LazyGroup]:
    """A :class:`LazyGroup` class serving ``commands`` (Typer instantiates it itself)."""
    return type("EntraBackupGroup", (LazyGroup,), {"lazy": commands})
