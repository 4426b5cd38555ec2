"""The ``entra-backup`` command: parses, calls a service, renders; one-line errors."""

from __future__ import annotations

import sys

import click
import typer

from entra_backup import __version__
from entra_backup.cli import demo_cmd, emulator_cmd
from entra_backup.domain.errors import EntraBackupError

app = typer.Typer(
    name="entra-backup",
    help="Backup and recovery for Microsoft Entra ID tenants.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(emulator_cmd.app, name="emulator")
app.command("demo")(demo_cmd.demo)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", help="Print the version and exit."),
) -> None:
    if version:
        typer.echo(__version__)
        raise typer.Exit(0)


def fail(message: str, code: int) -> int:
    """Print one error line on stderr and return the exit code."""
    first_line = message.strip().splitlines()[0] if message.strip() else "unknown error"
    print(f"entra-backup: error: {first_line}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return its exit code instead of raising."""
    try:
        result = app(args=argv, prog_name="entra-backup", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError:
        return 2
    except click.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx else "entra-backup"
        return fail(f"{exc.format_message()} (see '{command} --help')", 2)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        return fail("interrupted", 130)
    except EntraBackupError as exc:
        return fail(exc.message, exc.exit_code)
    return result if isinstance(result, int) else 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
