"""A backend on a local (or locally mounted) file system.

Atomicity: ``create`` writes the bytes to a temporary file in the destination directory,
fsyncs it, hard-links it to the final name and fsyncs the directory. ``os.link`` fails
when the final name exists, so two writers racing for one name cannot both win and an
existing file is never replaced; a crash leaves at most a temporary file (``.tmp-*``),
which listings ignore. The file system must support hard links (every POSIX local file
system and NFS does; some FUSE and SMB mounts do not, and ``create`` then fails with a
clear error instead of falling back to a racy rename).
"""

from __future__ import annotations

import errno
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

from entra_backup.domain.errors import DiskFull, FolderNotEmpty, UnusablePath
from entra_backup.store.backends.base import (
    AlreadyExists,
    Backend,
    BackendError,
    FileInfo,
    InvalidName,
    NotFound,
)
from entra_backup.store.backends.names import check_name, check_prefix, check_range

TEMP_PREFIX = ".tmp-"
_FULL = (errno.ENOSPC, errno.EDQUOT)


class BackendDiskFull(BackendError, DiskFull):
    """The repository's file system is full: a backend error with the CLI's disk-full
    exit code, so callers that handle backend errors still see it as one."""


class LocalBackend(Backend):
    """Files under a root directory, one file per name."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()

    def create(self, name: str, data: bytes) -> None:
        """Write atomically and durably; raise AlreadyExists if the name is taken."""
        final = self._path(name)
        try:
            self._make_dirs(final.parent)
            temp = final.parent / f"{TEMP_PREFIX}{uuid.uuid4().hex}"
            try:
                _write_synced(temp, data)
                os.link(temp, final)
            finally:
                temp.unlink(missing_ok=True)
            _fsync_dir(final.parent)
        except FileExistsError:
            raise AlreadyExists(f"{name} exists already") from None
        except OSError as exc:
            if exc.errno in _FULL:
                raise self._full(name, len(data)) from exc
            raise _os_error("create", name, exc) from exc

    def read(self, name: str) -> bytes:
        """Return the file's bytes."""
        path = self._path(name)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NotFound(f"{name} does not exist") from None
        except OSError as exc:
            raise _os_error("read", name, exc) from exc

    def read_range(self, name: str, offset: int, length: int) -> bytes:
        """Return up to ``length`` bytes from ``offset``."""
        check_range(offset, length)
        path = self._path(name)
        try:
            with path.open("rb") as handle:
                handle.seek(offset)
                return handle.read(length)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NotFound(f"{name} does not exist") from None
        except OSError as exc:
            raise _os_error("read", name, exc) from exc

    def delete(self, name: str) -> None:
        """Unlink the file and make the removal durable."""
        path = self._path(name)
        try:
            path.unlink()
            _fsync_dir(path.parent)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NotFound(f"{name} does not exist") from None
        except OSError as exc:
            raise _os_error("delete", name, exc) from exc

    def list(self, prefix: str = "") -> Iterator[FileInfo]:
        """Yield the files under ``prefix``, skipping temporary files of unfinished writes."""
        check_prefix(prefix)
        start = self.root / prefix.rpartition("/")[0]
        for directory, _dirs, files in os.walk(start):
            base = Path(directory)
            for file_name in files:
                if file_name.startswith(TEMP_PREFIX):
                    continue
                path = base / file_name
                name = path.relative_to(self.root).as_posix()
                if name.startswith(prefix):
                    size = _size_or_none(path)
                    if size is not None:
                        yield FileInfo(name, size)

    def exists(self, name: str) -> bool:
        """Whether a regular file of that name exists."""
        return self._path(name).is_file()

    def _path(self, name: str) -> Path:
        check_name(name)
        if any(segment.startswith(TEMP_PREFIX) for segment in name.split("/")):
            raise InvalidName(f"names starting with {TEMP_PREFIX!r} are reserved: {name!r}")
        return self.root / name

    def _full(self, name: str, size: int) -> BackendDiskFull:
        """The disk-full error for writing ``size`` bytes as ``name`` (the temporary file
        was removed, so nothing half-written stays)."""
        try:
            free: int | None = shutil.disk_usage(self.root).free
        except OSError:
            free = None
        folder, _, file_name = name.rpartition("/")
        shown = f"{folder}/{file_name[:12]}…" if len(file_name) > 12 else name
        return BackendDiskFull(str(self.root), doing=f"writing {shown} to the repository",
                               needed=size, free=free)

    def _make_dirs(self, directory: Path) -> None:
        """Create missing directories, fsyncing each parent so the new entry is durable."""
        missing: list[Path] = []
        current = directory
        while not current.exists():
            missing.append(current)
            current = current.parent
        for path in reversed(missing):
            try:
                path.mkdir()
            except FileExistsError:
                continue
            _fsync_dir(path.parent)


def _write_synced(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _size_or_none(path: Path) -> int | None:
    """The file's size, or None if it was deleted while listing."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return None


def _os_error(action: str, name: str, exc: OSError) -> BackendError:
    if exc.errno in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP) and action == "create":
        hint = " (the file system may not support hard links, which atomic create needs)"
    elif exc.errno == errno.ENOSPC:
        hint = " (the disk is full)"
    else:
        hint = ""
    return BackendError(f"cannot {action} {name}: {exc.strerror or exc}{hint}")


def check_new_root(root: Path, *, marker: str) -> None:
    """Refuse a folder where a new repository cannot go.

    A file, a path under a file or an unreadable folder would fail half-way; a folder that
    holds other files would end up mixing them with the repository's. A folder holding
    ``marker`` (a repository's config) is left to the caller, which names it better.
    """
    try:
        existing = next(path for path in (root, *root.parents) if path.exists())
        if not existing.is_dir():
            where = "is a file" if existing == root else f"lies under the file {existing}"
            raise UnusablePath(f"{root} {where}; give a folder")
        entries = {entry.name for entry in root.iterdir()} if existing == root else set()
    except OSError as exc:
        raise UnusablePath(f"cannot use {root}: {exc.strerror or exc}") from exc
    if entries and marker not in entries:
        raise FolderNotEmpty(f"{root} is not empty and holds no repository: give an empty "
                             "or new folder, so the repository's files mix with no others")
