"""The ``entra-backup`` command: parses, calls a service, renders; one-line errors."""

from __future__ import annotations

import errno
import os
import shutil
import sys
import tempfile
from pathlib import Path

import typer

# Typer 0.29 vendors click; its exceptions are what a parse error raises.
from typer._click import exceptions as click_errors

from entra_backup import __version__
from entra_backup.cli import context
from entra_backup.cli.commands import COMMANDS
from entra_backup.cli.lazy import lazy_group
from entra_backup.domain.errors import (
    DiskFull,
    EntraBackupError,
    NotText,
    UnusablePath,
    UsageError,
)
from entra_backup.home import PRIVATE_UMASK

app = typer.Typer(
    name="entra-backup",
    help="Backup and recovery for Microsoft Entra ID tenants.",
    cls=lazy_group(COMMANDS),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback(invoke_without_command=True)
def _root(
    version: bool = typer.Option(False, "--version", help="Print the version and exit."),
    home: str | None = typer.Option(None, "--home", help="Home folder (default: "
                                    "ENTRA_BACKUP_HOME or ~/.entra-backup)."),
    passphrase_file: Path | None = typer.Option(
        None, "--passphrase-file", help="File holding the repository passphrase "
        "(default: ENTRA_BACKUP_PASSPHRASE)."),
    accept_missing_snapshots: bool = typer.Option(
        False, "--accept-missing-snapshots", help="Accept that snapshots this home has "
        "seen are gone from the repository (deleted on purpose elsewhere) and stop "
        "expecting them; without it such a repository is refused as rolled back."),
) -> None:
    # A str, not a Path: Path("") is the current folder, and an empty --home (an unset
    # shell variable) must not turn the working directory into a home.
    if home is not None and not home.strip():
        raise UsageError("--home is empty: give the home folder's path")
    context.current = context.Invocation(None if home is None else Path(home),
                                         passphrase_file, accept_missing_snapshots)
    if version:
        typer.echo(__version__)
        raise typer.Exit(0)


def fail(message: str, code: int) -> int:
    """Print one error line on stderr and return the exit code."""
    first_line = message.strip().splitlines()[0] if message.strip() else "unknown error"
    # A path or name from the command line may hold surrogates; show them escaped.
    first_line = first_line.encode("utf-8", "backslashreplace").decode("utf-8")
    print(f"entra-backup: error: {first_line}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return its exit code instead of raising.

    Every file the command creates is readable by its owner only (the home holds tenant
    data in clear); the caller's umask comes back afterwards, for in-process callers."""
    previous = os.umask(PRIVATE_UMASK)
    try:
        return _run(argv)
    finally:
        os.umask(previous)


def _run(argv: list[str] | None) -> int:
    try:
        result = app(args=argv, prog_name="entra-backup", standalone_mode=False)
    except click_errors.NoArgsIsHelpError as exc:
        if exc.ctx is not None:
            print(exc.ctx.get_help())
        return 0
    except click_errors.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx else "entra-backup"
        return fail(f"{exc.format_message()} (see '{command} --help')", 2)
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        return fail("interrupted", 130)
    except EntraBackupError as exc:
        return fail(exc.message, exc.exit_code)
    except UnicodeError as exc:
        # Arguments arrive with undecodable bytes as surrogates (PEP 383): fine for a path,
        # not for a name, a query or anything sent to Graph or the database.
        return fail(f"text that is not valid UTF-8 (in an argument or a file): {exc}",
                    NotText.exit_code)
    except OSError as exc:
        # The safety net: specific causes get their own checks and messages (the writers
        # that can fill a disk report DiskFull themselves); a file-system failure nobody
        # foresaw still ends in one line naming the path and the cause.
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            full = _disk_full(exc)
            return fail(full.message, full.exit_code)
        return fail(_describe(exc), UnusablePath.exit_code)
    return result if isinstance(result, int) else 0


def _describe(exc: OSError) -> str:
    cause = exc.strerror or str(exc) or type(exc).__name__
    if exc.filename is None:
        return cause
    path = os.fsdecode(exc.filename) if isinstance(exc.filename, bytes) else str(exc.filename)
    return f"{path}: {cause}"


def _disk_full(exc: OSError) -> DiskFull:
    """A full disk no writer reported: the file's folder, or, when the error names no
    file (a failed ``write``), the fuller of the home and TMPDIR."""
    # Imported here: this runs only on a failure, and --help imports as little as it can.
    from entra_backup.config import home_dir

    if exc.filename:
        folders = [Path(os.fsdecode(exc.filename)).absolute().parent]
    else:
        folders = [context.current.home or home_dir(), Path(tempfile.gettempdir())]
    free = {folder: _free(folder) for folder in folders}
    folder = min(folders, key=lambda item: free[item])
    return DiskFull(str(folder), doing="writing a file", free=free[folder])


def _free(folder: Path) -> int:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return sys.maxsize


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
