"""Keeping the home folder private.

The home holds tenant data in clear: the catalog (display names, UPNs, mails, appIds,
ids), restore plans, journals and reports. Only its owner may read it: the folder is 0700
and its files 0600. The CLI sets a umask of 0o077 so every file it creates gets those
modes; the functions here create the folder explicitly private and tighten homes made by
earlier versions (or by a hand-run ``mkdir``).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from entra_backup.domain.errors import UnusablePath

PRIVATE_UMASK = 0o077
PRIVATE_FOLDER = 0o700
_OTHERS = 0o077
_WRITABLE_BY_OTHERS = 0o022


def create_private_folder(folder: Path) -> None:
    """Create the folder (and missing parents) readable by its owner only."""
    if folder.exists() and not folder.is_dir():
        raise UnusablePath(f"{folder} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=PRIVATE_FOLDER)
        folder.chmod(PRIVATE_FOLDER)
    except OSError as exc:
        raise UnusablePath(f"cannot create the folder {folder}: "
                           f"{exc.strerror or exc}") from exc


def check_folder(folder: Path) -> None:
    """Refuse a path that exists but is not a folder (``--home FILE``), and a home that
    someone else owns or may write: whoever can write it can replace its configuration,
    its key file or its pin, so tightening it afterwards would come too late."""
    if folder.exists() and not folder.is_dir():
        raise UnusablePath(f"the home {folder} is a file, not a folder")
    try:
        status = folder.stat()
    except OSError:
        return  # not there yet (init creates it private) or unreadable: said when used
    if status.st_uid != os.geteuid():
        raise UnusablePath(f"the home {folder} belongs to user id {status.st_uid}, not to "
                           "you: use a home of your own (--home or ENTRA_BACKUP_HOME)")
    if stat.S_IMODE(status.st_mode) & _WRITABLE_BY_OTHERS:
        raise UnusablePath(f"the home {folder} may be written by other users, who could "
                           "have changed its configuration or keys: check its contents, "
                           f"then run 'chmod 700 {folder}'")


def tighten(folder: Path, extra_files: Iterable[Path] = ()) -> list[Path]:
    """Remove group and other access from the folder, the files directly in it and
    ``extra_files``; return the paths that were changed (none when already private)."""
    if not folder.is_dir():
        return []
    try:
        files = [path for path in folder.iterdir() if path.is_file()]
    except OSError:
        files = []
    return [path for path in (folder, *files, *extra_files) if make_private(path)]


def make_private(path: Path) -> bool:
    """Remove group and other access from one path; True if it had some."""
    try:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if stat.S_ISLNK(path.lstat().st_mode) or not mode & _OTHERS:
            return False
        path.chmod(mode & ~_OTHERS)
    except OSError:
        # A file that vanished or that we do not own is left alone: the check is a
        # courtesy for existing homes, not a gate.
        return False
    return True


def readable_by_others(path: Path) -> int | None:
    """The file's permission bits when its group or others may read or use it, else None
    (also when it cannot be examined: opening it reports that)."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    return mode if mode & 0o077 else None
