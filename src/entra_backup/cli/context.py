"""State shared by the commands of one invocation: the workspace and output helpers."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from entra_backup.bootstrap import Workspace


@dataclass
class Invocation:
    """Global options of the current command line."""

    home: Path | None = None
    passphrase_file: Path | None = None
    accept_missing_snapshots: bool = False


current = Invocation()


def workspace() -> Workspace:
    """The workspace the global options and the environment name, its home made private
    if others could read it."""
    # Imported here: the workspace brings the store, the catalog and the Graph client,
    # which `--help` and the commands that do not use them never pay for.
    from entra_backup.bootstrap import Workspace
    from entra_backup.config import home_dir

    space = Workspace(current.home or home_dir(), passphrase_file=current.passphrase_file,
                      warn=warn, accept_missing_snapshots=current.accept_missing_snapshots)
    space.secure_home()
    return space


def warn(message: str) -> None:
    """One warning line on stderr."""
    print(f"entra-backup: warning: {message}", file=sys.stderr)


def print_json(value: Any) -> None:
    """One JSON document on stdout (``--json``)."""
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2,
                                  default=str).decode() + "\n")
