"""The engine's error tree. Each class has a stable exit code for the CLI.

Codes follow borg's habit: 0 success, 1 a warning-level outcome, 2 usage errors, and a
distinct code per error family so scripts can tell them apart.
"""

from __future__ import annotations


class EntraBackupError(Exception):
    """Base class of every error the product reports to a user."""

    exit_code = 10

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(EntraBackupError):
    """The command line or a configuration value is invalid."""

    exit_code = 2


class ConfigurationError(EntraBackupError):
    """The configuration file or environment is invalid or incomplete."""

    exit_code = 3


class UnknownObjectType(UsageError):
    """A name that is not one of the object types the product backs up."""

    def __init__(self, name: str, known: tuple[str, ...]) -> None:
        super().__init__(f"unknown object type {name!r}; known types: {', '.join(known)}")
        self.name = name
        self.known = known


class ObjectTypeTableError(EntraBackupError):
    """The object-type table contradicts itself (a dependency cycle or unknown name)."""


class UnusablePath(EntraBackupError):
    """A file or folder the command needs is a file where a folder is expected (or the
    reverse), lies under a file, or cannot be read or written."""

    exit_code = 14


class KeyServiceUnreachable(EntraBackupError):
    """The key service that wraps the master key (AWS KMS) cannot be reached."""

    exit_code = 15


class FolderNotEmpty(EntraBackupError):
    """A new repository was asked for in a folder that holds other files."""

    exit_code = 16


class EmptyPassphrase(UsageError):
    """``init`` was given an empty passphrase."""


class NotText(UsageError):
    """An argument or a file holds bytes that are not UTF-8 text where text is needed."""


class CertificatePassphraseError(EntraBackupError):
    """A tenant's certificate key cannot be unlocked: it is encrypted and its passphrase
    variable is not set (or none is configured), or the passphrase is wrong."""

    exit_code = 42


class CatalogPasswordMissing(ConfigurationError):
    """The catalog's password is read from an environment variable that is not set."""

    exit_code = 43

class DiskFull(EntraBackupError):
    """A file system ran out of space (or quota) while the product was writing to it.

    Its own exit code, so a script can tell "free some space and run it again" from a
    partial snapshot (1) or damaged data. The message names the folder and the space.
    """

    exit_code = 29

    def __init__(self, path: str, *, doing: str, needed: int | None = None,
                 free: int | None = None) -> None:
        need = f"needs {format_bytes(needed)}" if needed is not None else "needs more space"
        have = f", {format_bytes(free)} free" if free is not None else ""
        super().__init__(f"not enough space in {path}: {doing} {need}{have}; free some space "
                         "there and run it again")
        self.path = path
        self.needed = needed
        self.free = free


def format_bytes(size: int) -> str:
    """A size for a message: ``512 bytes``, ``3.4 MB`` (decimal units, as ``df -H``)."""
    if size < 1000:
        return f"{size} bytes"
    value, units = float(size) / 1000, ["kB", "MB", "GB", "TB"]
    while value >= 1000 and len(units) > 1:
        value /= 1000
        units.pop(0)
    return f"{value:.1f} {units[0]}"
