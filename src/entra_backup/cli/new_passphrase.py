"""A new passphrase (``init``, ``key add``, ``key passwd``): read, then judged.

``key add`` and ``key passwd`` read it from an environment variable the command line
names (a secrets manager can fill one; a passphrase never goes on a command line, where
other users see it in the process list) or, on a terminal, twice without echo.
"""

from __future__ import annotations

import getpass
import os
import sys

from entra_backup.cli.context import warn
from entra_backup.domain.errors import EmptyPassphrase, UsageError

MIN_PASSPHRASE_LENGTH = 12


def read_new_passphrase(variable: str | None) -> str:
    """The new passphrase from ``variable`` or, without one, typed twice on the terminal."""
    if variable is not None:
        text = os.environ.get(variable, "")
        if not text:
            raise UsageError(f"the environment variable {variable} (--new-passphrase-env) is "
                             "not set or empty")
    else:
        text = _typed_twice()
    check_new_passphrase(text)
    return text


def check_new_passphrase(text: str) -> None:
    """Refuse a blank passphrase; warn about a short one (it can be guessed offline by
    whoever copies the repository)."""
    if not text.strip():
        raise EmptyPassphrase("the passphrase is blank: choose one of 12 characters or more")
    if len(text) < MIN_PASSPHRASE_LENGTH:
        warn(f"the passphrase has only {len(text)} characters; one of "
             f"{MIN_PASSPHRASE_LENGTH} or more is much harder to guess")


def _typed_twice() -> str:
    if not _stdin_is_terminal():
        raise UsageError("a new passphrase is needed and there is no terminal to type it on: "
                         "put it in an environment variable and name it with "
                         "--new-passphrase-env")
    first = getpass.getpass("New passphrase: ", stream=sys.stderr)
    second = getpass.getpass("The same again: ", stream=sys.stderr)
    if first != second:
        raise UsageError("the two passphrases typed differ; nothing was changed")
    return first


def _stdin_is_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except ValueError:  # a closed stdin
        return False
