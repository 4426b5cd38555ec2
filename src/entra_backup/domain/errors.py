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
