"""Errors the catalog reports to its callers."""

from __future__ import annotations

from entra_backup.domain.errors import EntraBackupError


class CatalogError(EntraBackupError):
    """The catalog database is unreachable, malformed, too new, or was used wrongly."""

    exit_code = 12


class CatalogOutOfDate(CatalogError):
    """Only changes were offered, but the catalog lacks the snapshot they are relative to."""
