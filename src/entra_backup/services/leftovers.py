"""Scratch folders of runs that died: spool databases and live-tenant copies in TMPDIR.

A backup spools each delta round into ``entra-backup-spool-<pid>-*`` and a comparison with
the live tenant backs it up into ``entra-backup-live-<pid>-*``; both are removed when the
run ends, but a killed run (SIGKILL, power loss) leaves them behind, and they can hold a
whole tenant's directory in clear. A folder is stale when the pid in its name is not a
running process, or, for names without a pid (older versions), when nothing in it changed
for longer than a repository lock's lease (a run that old without a write holds no lock).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

from entra_backup.store.lock import DEFAULT_GRACE, DEFAULT_TTL

SPOOL_PREFIX = "entra-backup-spool-"
LIVE_PREFIX = "entra-backup-live-"
VERSIONS_PREFIX = "entra-backup-versions-"
_NAME = re.compile(rf"^(?:{SPOOL_PREFIX}|{LIVE_PREFIX}|{VERSIONS_PREFIX})(?:(\d+)-)?")
STALE_AFTER = DEFAULT_TTL + DEFAULT_GRACE


def scratch_prefix(prefix: str) -> str:
    """The name prefix of a scratch folder of this process (``prefix`` + pid)."""
    return f"{prefix}{os.getpid()}-"


def stale_scratch(directory: Path | None = None, *,
                  clock: Callable[[], float] = time.time) -> list[Path]:
    """Scratch folders in ``directory`` (default TMPDIR) left by runs that died."""
    root = Path(directory or tempfile.gettempdir())
    found = []
    for entry in sorted(root.iterdir()):
        match = _NAME.match(entry.name)
        if match is None or not entry.is_dir() or entry.is_symlink():
            continue
        pid = match.group(1)
        try:
            stale = not _alive(int(pid)) if pid else clock() - _newest_change(entry) > STALE_AFTER
        except OSError:
            # The folder went away meanwhile: its run ended and removed it.
            continue
        if stale:
            found.append(entry)
    return found


def clean_stale_scratch(directory: Path | None = None, *,
                        clock: Callable[[], float] = time.time) -> list[Path]:
    """Remove the stale scratch folders; return those removed."""
    removed = []
    for folder in stale_scratch(directory, clock=clock):
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            removed.append(folder)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process has this pid
    return True


def _newest_change(folder: Path) -> float:
    """The newest modification time in the folder; OSError if the folder vanishes."""
    newest = folder.stat().st_mtime
    for path in folder.rglob("*"):
        with suppress(OSError):  # a file removed while we look
            newest = max(newest, path.stat().st_mtime)
    return newest
