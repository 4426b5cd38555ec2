"""Retention use cases: ``forget`` by policy, a tenant's stored policy, deleting a tenant's
snapshots, and ``prune``.

Forgetting deletes snapshot files only; the data they alone referenced stays until
``prune``. The catalog mirrors the repository, so after snapshots are deleted it is rebuilt
from the repository (``reindex``): the forgotten snapshots leave search and browse. A
rebuild costs as much as recording every remaining snapshot, which is why it only runs when
something was actually removed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from entra_backup.catalog import Catalog, CatalogError, reindex
from entra_backup.config import TenantRecord
from entra_backup.domain.errors import EntraBackupError, UsageError
from entra_backup.services.catalog_sync import RepositorySource
from entra_backup.store.lock import LockHeld, RepositoryLock
from entra_backup.store.prune import PruneResult, prune
from entra_backup.store.repository import Repository
from entra_backup.store.retention import (
    ForgetResult,
    RetentionPolicy,
    delete_snapshots,
    forget,
)


class RepositoryBusy(EntraBackupError):
    """Another backup, forget or prune holds the repository lock."""

    exit_code = 24


class RetainedByObjectLock(EntraBackupError):
    """S3 Object Lock refused to delete files whose retention period has not ended."""

    exit_code = 26


class NoRetentionPolicy(UsageError):
    """``forget`` was given no rule and the tenant stores none."""


@contextmanager
def exclusive_lock(repo: Repository) -> Iterator[RepositoryLock]:
    """The repository lock for one maintenance run; RepositoryBusy if someone holds it."""
    lock = RepositoryLock(repo.backend)
    try:
        lock.acquire()
    except LockHeld as exc:
        raise RepositoryBusy(f"the repository is busy (a backup, forget or prune is "
                             f"running): {exc}") from None
    lock.start_refreshing()
    try:
        yield lock
    finally:
        lock.release()


@dataclass(frozen=True)
class SnapshotFate:
    """One snapshot: kept (and by which rules), removed, or retained by Object Lock."""

    id: str
    time: datetime
    reasons: tuple[str, ...]
    refused: str | None = None

    @property
    def state(self) -> str:
        """``kept``, ``removed`` or ``retained`` (removal refused by Object Lock)."""
        if self.reasons:
            return "kept"
        return "retained" if self.refused else "removed"

    def to_json(self) -> dict[str, Any]:
        """As ``forget --json`` prints it."""
        entry: dict[str, Any] = {"id": self.id, "time": self.time.isoformat()}
        if self.reasons:
            entry["reasons"] = list(self.reasons)
        if self.refused:
            entry["error"] = self.refused
        return entry


@dataclass
class ForgetReport:
    """What ``forget`` decided and did for one tenant."""

    tenant: str
    policy: dict[str, Any]
    dry_run: bool
    snapshots: list[SnapshotFate] = field(default_factory=list)
    catalog: str = "unchanged"

    def having(self, state: str) -> list[SnapshotFate]:
        """The snapshots in one state, newest first."""
        return [fate for fate in self.snapshots if fate.state == state]

    def to_json(self) -> dict[str, Any]:
        """One JSON document: the policy, kept, removed (or to remove), retained."""
        return {"tenant": self.tenant, "policy": self.policy, "dry_run": self.dry_run,
                **{state: [fate.to_json() for fate in self.having(state)]
                   for state in ("kept", "removed", "retained")},
                "catalog": self.catalog}


@dataclass(frozen=True)
class RuleOptions:
    """The ``--keep-*`` options of a command line, None where not given."""

    keep_last: int | None = None
    keep_hourly: int | None = None
    keep_daily: int | None = None
    keep_weekly: int | None = None
    keep_monthly: int | None = None
    keep_yearly: int | None = None
    keep_within: str | None = None

    def given(self) -> dict[str, Any]:
        """The options given, by rule name (a duration still as its text)."""
        return {name: value for name, value in vars(self).items() if value is not None}

    def policy(self, base: dict[str, Any] | None = None) -> RetentionPolicy:
        """These rules over ``base`` (stored rules), validated; a 0 count turns a rule off."""
        merged = {**(base or {}), **self.given()}
        merged = {name: value for name, value in merged.items() if value != 0}
        return RetentionPolicy.from_json(merged)


def stored_policy(record: TenantRecord) -> RetentionPolicy | None:
    """The tenant's retention policy from its configuration entry, or None if unset."""
    policy = RetentionPolicy.from_json(record.retention)
    return None if policy.is_empty() else policy


def forget_tenant(repo: Repository, catalog: Catalog | None, tenant: str,
                  policy: RetentionPolicy, *, dry_run: bool = False) -> ForgetReport:
    """Apply ``policy`` to one tenant's snapshots; refuse an empty policy."""
    if policy.is_empty():
        raise NoRetentionPolicy("the retention policy is empty; give at least one --keep-* "
                                "rule (snapshots are kept forever otherwise)")
    if dry_run:
        return _report(tenant, policy, forget(repo, policy, tenant=tenant, dry_run=True), True)
    with exclusive_lock(repo) as lock:
        result = forget(repo, policy, tenant=tenant, lock=lock)
    report = _report(tenant, policy, result, False)
    if result.removed:
        report.catalog = rebuild_catalog(catalog, repo)
    return report


def apply_retention(repo: Repository, catalog: Catalog | None, record: TenantRecord,
                    *, dry_run: bool = False) -> ForgetReport:
    """Apply the tenant's stored policy (after a backup, or ``forget NAME`` without rules)."""
    policy = stored_policy(record)
    if policy is None:
        raise NoRetentionPolicy(
            f"tenant {record.name!r} has no retention policy: give --keep-* rules, or store "
            f"one with 'entra-backup tenant edit {record.name} --keep-daily N ...'")
    return forget_tenant(repo, catalog, record.name, policy, dry_run=dry_run)


def _report(tenant: str, policy: RetentionPolicy, result: ForgetResult,
            dry_run: bool) -> ForgetReport:
    report = ForgetReport(tenant, policy.to_json(), dry_run)
    for decision in result.decisions.get(tenant, []):
        snapshot = decision.snapshot
        report.snapshots.append(SnapshotFate(snapshot.id, snapshot.time, decision.reasons,
                                             result.retained.get(snapshot.id)))
    return report


@dataclass(frozen=True)
class TenantDeletion:
    """Snapshots of a removed tenant: deleted, and those Object Lock still retains."""

    removed: list[str]
    retained: dict[str, str]
    catalog: str


def delete_tenant_snapshots(repo: Repository, catalog: Catalog | None,
                            tenant: str) -> TenantDeletion:
    """Delete every snapshot of ``tenant`` (``tenant remove --delete-snapshots``)."""
    result = ForgetResult()
    with exclusive_lock(repo) as lock:
        ids = [snapshot.id for snapshot in repo.snapshots(tenant)]
        delete_snapshots(repo, ids, result, lock=lock)
    rebuilt = rebuild_catalog(catalog, repo) if result.removed else "unchanged"
    return TenantDeletion(result.removed, result.retained, rebuilt)


def rebuild_catalog(catalog: Catalog | None, repo: Repository) -> str:
    """``reindexed``, or ``failed: ...`` (the deletion stands; ``reindex`` repairs it)."""
    if catalog is None:
        return "none"
    try:
        reindex(catalog, RepositorySource(repo))
    except CatalogError as exc:
        return f"failed: {exc.message}"
    return "reindexed"


def snapshot_count(repo: Repository, tenant: str) -> int:
    """How many readable snapshots a tenant has."""
    return len(repo.snapshots(tenant))


@dataclass(frozen=True)
class PruneReport:
    """``prune``'s figures (planned ones for ``--dry-run``)."""

    dry_run: bool
    result: PruneResult

    def to_json(self) -> dict[str, Any]:
        """Packs and bytes deleted, repacked, kept and written; blobs; retained files."""
        plan, done = self.result.plan, self.result
        return {
            "dry_run": self.dry_run,
            "packs": {"delete": len(plan.delete), "repack": len(plan.repack),
                      "keep": len(plan.keep), "deleted": done.deleted_packs,
                      "written": done.written_packs},
            "bytes": {"delete": plan.bytes_of(plan.delete),
                      "repack": plan.bytes_of(plan.repack), "keep": plan.bytes_of(plan.keep),
                      "deleted": done.deleted_bytes, "written": done.written_bytes},
            "blobs": {"used": plan.used_blobs, "unused": plan.unused_blobs,
                      "unused_bytes": plan.unused_bytes, "repacked": done.repacked_blobs},
            "index_files_deleted": done.deleted_indexes,
            "retained": list(done.retained),
        }


def prune_repository(repo: Repository, *, dry_run: bool = False) -> PruneReport:
    """Reclaim the data no snapshot references, holding the exclusive lock."""
    with exclusive_lock(repo) as lock:
        result = prune(repo, lock=lock, dry_run=dry_run)
    return PruneReport(dry_run, result)


def object_lock_refusal(names: list[str], detail: str) -> RetainedByObjectLock:
    """The one-line error after Object Lock kept files from being deleted."""
    return RetainedByObjectLock(
        f"{len(names)} file(s) are still under S3 Object Lock retention and were not "
        f"deleted ({detail}); run the command again after their retention ends")
