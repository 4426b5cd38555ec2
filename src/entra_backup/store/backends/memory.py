"""An in-memory backend for tests: same contract, nothing on disk.

It can also imitate S3 Object Lock (``retention=``): every created file is retained until
``clock() + retention`` and deleting it before then raises :class:`ObjectLocked`. That
lets layers above test how they handle retained files without an S3 server.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from entra_backup.store.backends.base import (
    AlreadyExists,
    Backend,
    FileInfo,
    NotFound,
    ObjectLocked,
)
from entra_backup.store.backends.names import check_name, check_prefix, check_range


@dataclass(frozen=True, slots=True)
class _Stored:
    data: bytes
    retain_until: float | None


class MemoryBackend(Backend):
    """Files kept in a dictionary; safe to share between threads."""

    def __init__(
        self,
        *,
        retention: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._files: dict[str, _Stored] = {}
        self._mutex = threading.Lock()
        self._retention = retention
        self._clock = clock

    def create(self, name: str, data: bytes) -> None:
        """Store a copy of ``data``; raise AlreadyExists if the name is taken."""
        check_name(name)
        retain_until = None if self._retention is None else self._clock() + self._retention
        with self._mutex:
            if name in self._files:
                raise AlreadyExists(f"{name} exists already")
            self._files[name] = _Stored(bytes(data), retain_until)

    def read(self, name: str) -> bytes:
        """Return the file's bytes."""
        return self._get(name).data

    def read_range(self, name: str, offset: int, length: int) -> bytes:
        """Return up to ``length`` bytes from ``offset``."""
        check_range(offset, length)
        return self._get(name).data[offset : offset + length]

    def delete(self, name: str) -> None:
        """Remove the file unless its retention is still running."""
        check_name(name)
        with self._mutex:
            stored = self._files.get(name)
            if stored is None:
                raise NotFound(f"{name} does not exist")
            if stored.retain_until is not None and self._clock() < stored.retain_until:
                raise ObjectLocked(f"{name} is retained until {stored.retain_until:.0f}")
            del self._files[name]

    def list(self, prefix: str = "") -> Iterator[FileInfo]:
        """Yield the files under ``prefix`` (a snapshot taken when called)."""
        check_prefix(prefix)
        with self._mutex:
            found = [
                FileInfo(name, len(stored.data))
                for name, stored in self._files.items()
                if name.startswith(prefix)
            ]
        return iter(found)

    def exists(self, name: str) -> bool:
        """Whether the file exists."""
        check_name(name)
        with self._mutex:
            return name in self._files

    def _get(self, name: str) -> _Stored:
        check_name(name)
        with self._mutex:
            stored = self._files.get(name)
        if stored is None:
            raise NotFound(f"{name} does not exist")
        return stored
