"""Errors the catalog reports to its callers."""

from __future__ import annotations

from entra_backup.domain.errors import DiskFull, EntraBackupError


class CatalogError(EntraBackupError):
    """The catalog database is unreachable, malformed, too new, or was used wrongly."""

    exit_code = 12


class CatalogOutOfDate(CatalogError):
    """Only changes were offered, but the catalog lacks the snapshot they are relative to."""


class CatalogDiskFull(CatalogError, DiskFull):
    """The file system holding a SQLite catalog is full (the disk-full exit code)."""

    exit_code = DiskFull.exit_code


class CatalogDamaged(CatalogError):
    """The catalog database file is not a database, or its pages are malformed.

    Only SQLite reports this; the workspace moves such a file aside and rebuilds the
    catalog from the repository, so it reaches the user only when that is impossible.
    """

    exit_code = 35
