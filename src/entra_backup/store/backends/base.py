"""The contract every storage backend fulfils.

A backend stores immutable files under slash-separated names such as
``data/3f/3f9a...`` or ``snapshots/0c1d...``. The repository layer above decides
what the names and contents are; a backend only keeps bytes safe.

Contract (checked by the conformance suite in ``tests/store/backends/``):

* ``create`` is atomic and exclusive: after it returns, the whole file is durable and
  readable under its name; a crash during ``create`` leaves either nothing or the whole
  file visible, never a prefix. Creating a name that already exists raises
  :class:`AlreadyExists` and leaves the existing file untouched.
* Files are never modified in place. To change a file, create a new name and delete the
  old one.
* ``read`` returns exactly the bytes given to ``create``; a missing name raises
  :class:`NotFound`.
* ``delete`` of a missing name raises :class:`NotFound`; deleting a file under an active
  retention (object lock) raises :class:`ObjectLocked`.
* ``list`` yields every file whose name starts with the prefix, in no particular order.
* Names are relative slash-separated paths; an absolute name, an empty segment or a ``.``
  or ``..`` segment raises :class:`InvalidName`.
* Temporary failures raise :class:`TransientError`; retrying is a wrapper's job.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass


class BackendError(Exception):
    """Base class of every storage backend failure."""


class NotFound(BackendError):
    """The named file does not exist."""


class AlreadyExists(BackendError):
    """A file with that name exists already; it was left untouched."""


class ObjectLocked(BackendError):
    """The file is under a retention period and cannot be deleted or overwritten."""


class ReadOnlyBackend(BackendError):
    """A write was attempted through a read-only backend."""


class TransientError(BackendError):
    """A temporary failure (timeout, throttling, server error); the same call may succeed later.

    Backends raise it so that a retrying wrapper knows what is safe to retry; they never
    retry by themselves.
    """


class InvalidName(BackendError, ValueError):
    """The name is not a relative, slash-separated path without ``.`` or ``..`` segments."""


@dataclass(frozen=True, slots=True)
class FileInfo:
    """A stored file's name and size in bytes."""

    name: str
    size: int


class Backend(ABC):
    """A flat namespace of immutable files."""

    @abstractmethod
    def create(self, name: str, data: bytes) -> None:
        """Store ``data`` under ``name`` atomically; raise AlreadyExists if taken."""

    @abstractmethod
    def read(self, name: str) -> bytes:
        """Return the whole file."""

    @abstractmethod
    def read_range(self, name: str, offset: int, length: int) -> bytes:
        """Return ``length`` bytes from ``offset``; fewer only at the end of the file."""

    @abstractmethod
    def delete(self, name: str) -> None:
        """Remove the file; raise ObjectLocked when a retention forbids it."""

    @abstractmethod
    def list(self, prefix: str = "") -> Iterator[FileInfo]:
        """Yield the files whose names start with ``prefix``."""

    @abstractmethod
    def exists(self, name: str) -> bool:
        """Whether a file of that name exists."""

    def withdraw(self, name: str) -> None:
        """Remove the file from the namespace even where a retention keeps its bytes.

        Most backends simply delete it. A bucket that retains versions (S3 Object Lock)
        hides the current version instead, which stays readable by version id until its
        retention ends: :meth:`old_versions_kept` says so."""
        self.delete(name)

    def old_versions_kept(self) -> str | None:
        """Why a deleted file's bytes stay readable in the storage (bucket versioning,
        Object Lock), or None when a delete removes them."""
        return None

    def close(self) -> None:  # noqa: B027 - optional hook, most backends hold nothing
        """Release connections and handles."""
