"""The repository's error tree. Names are stable: the CLI and API map them to messages.

``RepositoryError`` is the root; integrity problems (``IntegrityError``) are separated
from key problems (``WrongKey``) and from look-up failures (``SnapshotNotFound``...), so a
caller can tell "the data is damaged" from "you asked for something that is not there".
"""

from __future__ import annotations

from entra_backup.domain.errors import EntraBackupError


class RepositoryError(EntraBackupError):
    """Base class of every repository failure."""

    exit_code = 20


class RepositoryNotFound(RepositoryError):
    """No repository exists at the location (no ``config`` file)."""


class RepositoryExists(RepositoryError):
    """``init`` was asked to create a repository where one exists already."""


class UnsupportedFormat(RepositoryError):
    """The repository or a file in it uses a format version this program cannot read."""


class WrongKey(RepositoryError):
    """No stored key opens with the given key provider."""

    exit_code = 21


class WrongPassphrase(WrongKey):
    """The passphrase opens none of the repository's keys."""


class KeyNotFound(RepositoryError):
    """No key file of the repository matches the name given (or several do)."""

    exit_code = 39


class KeyStillNeeded(RepositoryError):
    """Refused to remove the key that opened the repository, or its last key."""

    exit_code = 40


class IntegrityError(RepositoryError):
    """Stored data is damaged, missing or was tampered with."""

    exit_code = 22


class CorruptBlob(IntegrityError):
    """A blob failed authentication, decompression or its content hash."""


class CorruptFile(IntegrityError):
    """A whole file (pack header, index, snapshot, config) failed authentication or parsing."""


class MissingBlob(IntegrityError):
    """A referenced blob is in no index."""


class MissingPack(IntegrityError):
    """An indexed pack file does not exist."""


class CheckFailed(RepositoryError):
    """An operation that needs a healthy repository found problems; run ``check``."""

    exit_code = 22


class SnapshotNotFound(RepositoryError):
    """No snapshot matches the id, prefix or ``latest``."""

    exit_code = 23


class AmbiguousSnapshotId(RepositoryError):
    """The prefix matches several snapshots."""

    exit_code = 23


class ObjectNotFound(RepositoryError):
    """The snapshot holds no object with that type and id."""

    exit_code = 23


class WriterError(RepositoryError):
    """A snapshot writer was used wrongly (after commit, same object twice...)."""


class RetentionPolicyError(RepositoryError):
    """A retention policy is empty or invalid."""

    exit_code = 2


class RepositoryLocked(RepositoryError):
    """Another process holds the repository's exclusive lock (a repair or unlock waits)."""

    exit_code = 24


class LockHolderAlive(RepositoryError):
    """``unlock`` refused to remove a lock whose holder may still be writing."""

    exit_code = 25
