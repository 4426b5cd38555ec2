"""Repairing a repository: each repair takes the exclusive lock, then calls the store.

A dry run only reads, so it takes no lock and can run beside a backup.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from entra_backup.store.backends.base import Backend
from entra_backup.store.errors import LockHolderAlive, RepositoryLocked
from entra_backup.store.lock import LockHeld, RepositoryLock
from entra_backup.store.repair import (
    IndexRepair,
    SnapshotRepair,
    drop_damaged,
    rebuild_index,
    rewrite_snapshots,
)
from entra_backup.store.repository import Repository


@contextmanager
def exclusive(repo: Repository) -> Iterator[RepositoryLock]:
    """Hold the repository lock (refreshed in the background) for a repair."""
    lock = RepositoryLock(repo.backend)
    try:
        lock.acquire()
    except LockHeld as exc:
        raise RepositoryLocked(f"{exc}; wait for it to finish, or see 'entra-backup unlock'"
                               ) from exc
    try:
        lock.start_refreshing()
        yield lock
    finally:
        lock.release()


def repair_index(repo: Repository, *, dry_run: bool = False) -> IndexRepair:
    """Rebuild the index from the packs' own headers."""
    if dry_run:
        return rebuild_index(repo, guard=lambda: None, dry_run=True)
    with exclusive(repo) as lock:
        return rebuild_index(repo, guard=lock.ensure_held)


def repair_packs(repo: Repository, *, dry_run: bool = False) -> IndexRepair:
    """Drop the blobs ``check --read-data`` marked damaged from the index files."""
    if dry_run:
        return drop_damaged(repo, guard=lambda: None, dry_run=True)
    with exclusive(repo) as lock:
        return drop_damaged(repo, guard=lock.ensure_held)


def repair_snapshots(repo: Repository, *, dry_run: bool = False) -> SnapshotRepair:
    """Rewrite snapshots that reference lost blobs, recording the lost objects."""
    if dry_run:
        return rewrite_snapshots(repo, guard=lambda: None, dry_run=True)
    with exclusive(repo) as lock:
        return rewrite_snapshots(repo, guard=lock.ensure_held)


@dataclass
class UnlockReport:
    """Lock files ``unlock`` removed, with why each could go."""

    removed: list[dict[str, str]] = field(default_factory=list)


UNLOCK_RISK = (
    "removing the lock of a live backup or prune lets a second writer run beside it; a "
    "prune could then delete data the running backup is about to reference"
)


def unlock(
    backend: Backend, *, force: bool = False, clock: Callable[[], float] = time.time
) -> UnlockReport:
    """Remove stale locks (dead holder on this host, or an expired lease); a live holder's
    lock only with ``force``."""
    probe = RepositoryLock(backend, clock=clock)
    found = list(probe.foreign_locks())
    live = [(name, record) for name, record in found
            if record is None or not probe.is_stale(record)]
    if live and not force:
        name, record = live[0]
        holder = "an unreadable holder" if record is None else record.describe(probe.now())
        raise LockHolderAlive(f"the repository is locked by {holder} ({name}), which may "
                              f"still be running; refusing without --force: {UNLOCK_RISK}")
    report = UnlockReport()
    live_names = {name for name, _ in live}
    for name, record in found:
        probe.remove(name)
        why = "forced" if name in live_names else "stale"
        holder = "unreadable" if record is None else record.describe(probe.now())
        report.removed.append({"lock": name, "holder": holder, "reason": why})
    return report
