"""What to tell a user who stopped a backup (Ctrl+C): whether a snapshot was written.

A backup interrupted before its commit writes nothing (the writer aborts and the delta
links stay where they were), so the newest snapshot is the one from before the run. An
interrupt can also land after the commit, while the catalog is told: then the snapshot is
stored and only the catalog may lag. The answer compares the newest snapshot before and
after the run rather than guessing from where the interrupt landed.
"""

from __future__ import annotations

from entra_backup.domain.errors import EntraBackupError
from entra_backup.store.repository import Repository
from entra_backup.store.snapshot import Snapshot


class BackupInterrupted(EntraBackupError):
    """The user interrupted a backup; exit code 130 as a shell gives for SIGINT."""

    exit_code = 130


def newest_snapshot(repo: Repository, tenant: str) -> Snapshot | None:
    """The tenant's newest snapshot, or None before its first backup."""
    found = repo.snapshots(tenant)
    return found[-1] if found else None


def describe(snapshot: Snapshot) -> str:
    """``1a2b3c4d (2026-12-04 16:00:00 UTC)``: the id a user copies and when it was taken."""
    return f"{snapshot.short_id} ({snapshot.time:%Y-%m-%d %H:%M:%S %Z})".replace(" )", ")")


def interruption(repo: Repository, tenant: str, before: Snapshot | None) -> BackupInterrupted:
    """The error for a backup interrupted with ``before`` as the newest snapshot at start."""
    now = newest_snapshot(repo, tenant)
    if now is not None and (before is None or now.id != before.id):
        return BackupInterrupted(
            f"interrupted after snapshot {describe(now)} was written; run 'entra-backup "
            "reindex' if searches miss it")
    if before is None:
        return BackupInterrupted(f"interrupted: no snapshot written; tenant {tenant!r} has "
                                 "no snapshot yet")
    return BackupInterrupted(f"interrupted: no snapshot written; the previous snapshot "
                             f"{describe(before)} is intact")
