"""Whether ``restore`` may write: ``--yes``, or a person answering on a terminal.

A restore writes to, and with ``--remove-new`` deletes from, a production directory, so it
asks first. A script has nobody to answer: without a terminal on stdin it must say
``--yes``, and it is refused before anything is read or written otherwise, which leaves
no run folder, journal or unfinished restore behind.
"""

from __future__ import annotations

import sys

import typer

from entra_backup.domain.errors import EntraBackupError


class ConfirmationNeeded(EntraBackupError):
    """A command that asks first (restore, key remove) without ``--yes`` and without a
    terminal to ask on."""

    exit_code = 17


class RestoreDeclined(EntraBackupError):
    """The person at the terminal answered no."""

    exit_code = 18


def require_terminal(confirmed: bool) -> None:
    """Refuse a restore nobody can confirm (no ``--yes``, stdin not a terminal)."""
    if confirmed or _stdin_is_terminal():
        return
    raise ConfirmationNeeded("restore writes to the tenant and asks first, but stdin is not "
                             "a terminal; add --yes to restore without asking")


def confirm(writes: int, tenant: str) -> None:
    """Ask on the terminal (the question on stderr, so stdout keeps one JSON document);
    anything but y or yes (an empty line, end of input) ends the command having written
    nothing."""
    # Read here rather than through click's prompt, which echoes a space to stdout; the
    # summary on stdout is flushed first so the question follows it on the terminal.
    sys.stdout.flush()
    typer.echo(f"Proceed with {writes:,} writes to tenant {tenant}? [y/N] ", nl=False,
               err=True)
    answer = sys.stdin.readline().strip().lower()
    if answer not in ("y", "yes"):
        raise RestoreDeclined("restore cancelled at the prompt; nothing was written")


def _stdin_is_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except ValueError:  # a closed stdin
        return False
