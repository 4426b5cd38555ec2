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
