"""``run_backup``: one backup of one tenant, from Graph into a new snapshot and the catalog.

Types are read concurrently (a few at a time; the throttle budget paces them), each into
the one snapshot writer, which holds the repository lock for the whole run, so two backups
of a repository never interleave. The snapshot is committed even when nothing changed or a
type failed (then it is marked partial), but not when no type at all could be read (an
unreachable Graph, say): a snapshot of nothing would only hide the last good one. The
catalog is told only after the commit.
A kill at any point leaves no snapshot and no advanced delta link: the next run starts
again from the last committed snapshot.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from entra_backup.catalog import Catalog, CatalogError
from entra_backup.domain.errors import DiskFull, EntraBackupError
from entra_backup.graph.client import GraphClient
from entra_backup.services import catalog_sync
from entra_backup.services.backup.scope import BackupScope, resolve
from entra_backup.services.backup.spool_space import SpoolFull
from entra_backup.services.backup.temp_space import SpaceCheck, check_temp_space
from entra_backup.services.backup.type_job import TypeContext, TypeJob, TypeOutcome
from entra_backup.services.backup.versions import VersionLog
from entra_backup.store.errors import IntegrityError
from entra_backup.store.lock import LockHeld
from entra_backup.store.repository import Repository

CONCURRENT_TYPES = 4


class BackupLocked(EntraBackupError):
    """Another backup (or prune) holds the repository's lock."""

    exit_code = 24


class NothingBackedUp(EntraBackupError):
    """No object type could be read, so no snapshot was written."""

    exit_code = 4


@dataclass
class BackupProgress:
    """Callbacks the CLI uses to draw progress; every one is optional."""

    started: Callable[[str], None] = lambda name: None
    read: Callable[[str, int], None] = lambda name, count: None
    finished: Callable[[TypeOutcome], None] = lambda outcome: None
    warning: Callable[[str], None] = lambda text: None


@dataclass
class BackupSummary:
    """What one backup did."""

    tenant: str
    snapshot_id: str
    time: str
    types: list[TypeOutcome]
    bytes_stored: int
    seconds: float
    graph: dict[str, float] = field(default_factory=dict)
    catalog: str = "none"
    catalog_exit_code: int = 0
    """The exit code a failed catalog update calls for: 1, or the disk-full code."""

    @property
    def partial(self) -> bool:
        """Whether some type did not back up completely."""
        return any(outcome.status != "ok" for outcome in self.types)

    def to_json(self) -> dict[str, Any]:
        """The summary as ``--json`` prints it (``docs/backup.md`` defines each figure)."""
        objects = sum(o.objects for o in self.types)
        return {
            "tenant": self.tenant, "snapshot": self.snapshot_id, "time": self.time,
            "partial": self.partial, "seconds": round(self.seconds, 3),
            "objects": objects,
            "new_versions": sum(o.new_versions for o in self.types),
            **{key: sum(getattr(o, key) for o in self.types)
               for key in ("added", "modified", "removed", "read")},
            "relationships": _total(o.relationships for o in self.types),
            "objects_per_second": round(objects / self.seconds, 1) if self.seconds else None,
            "bytes_stored": self.bytes_stored, "graph": self.graph, "catalog": self.catalog,
            "types": [_type_json(o) for o in self.types],
        }


def _type_json(outcome: TypeOutcome) -> dict[str, Any]:
    return {"type": outcome.name, "status": outcome.status, "mode": outcome.mode,
            "objects": outcome.objects, "new_versions": outcome.new_versions,
            "added": outcome.added, "modified": outcome.modified, "removed": outcome.removed,
            "relationships": outcome.relationships, "read": outcome.read,
            "seconds": round(outcome.seconds, 3), "message": outcome.message}


def _total(values: Iterable[int | None]) -> int | None:
    """The sum, or None when any part is unknown (a total that silently drops a part
    would read as exact)."""
    total = 0
    for value in values:
        if value is None:
            return None
        total += value
    return total


def _edge_totals(outcomes: list[TypeOutcome]) -> dict[str, int]:
    """Per type, the edges this snapshot holds; the next delta run starts from them."""
    return {o.name: o.relationships for o in outcomes
            if o.status == "ok" and o.relationships is not None}


async def run_backup(client: GraphClient, repo: Repository, tenant: str, scope: BackupScope,
                     *, catalog: Catalog | None = None, full: bool = False,
                     progress: BackupProgress | None = None) -> BackupSummary:
    """Back the tenant up into a new snapshot; see the module docstring."""
    progress = progress or BackupProgress()
    started = time.monotonic()
    space = _check_temp_space(repo, tenant, full, progress)
    await client.authenticate()
    objects = await resolve(scope, client)
    with _estimating(space):
        log = VersionLog(catalog_sync.catalog_hasher(repo))
    try:
        try:
            writer = repo.writer(tenant)
        except LockHeld as exc:
            raise BackupLocked(f"the repository is locked by another backup or prune: {exc}"
                               ) from exc
        with writer:
            context = TypeContext(client, repo, writer, log, objects, scope.fingerprint(),
                                  full=full, on_read=progress.read)
            with _estimating(space):
                outcomes = await _run_types(context, scope, progress)
            if not any(outcome.status == "ok" for outcome in outcomes):
                first = next(o for o in outcomes if o.message)
                raise NothingBackedUp(f"no object type could be read, so no snapshot was "
                                      f"written ({first.name}: {first.message})")
            writer.state = {"delta": {o.name: o.delta for o in outcomes if o.delta},
                            "scope": scope.to_json(),
                            "relationships": _edge_totals(outcomes)}
            snapshot = writer.commit()
        recorded, catalog_code = "none", 0
        if catalog is not None:
            try:
                recorded = catalog_sync.record(catalog, repo, snapshot, log.versions(),
                                               log.removed_ids())
            except (CatalogError, IntegrityError) as exc:
                # The snapshot is safe in the repository; the next backup or 'reindex'
                # brings the catalog up to date. Damage met while rebuilding the catalog
                # (a lost index file) is the repository's to repair, not a failed backup.
                recorded = f"failed: {exc.message}"
                catalog_code = exc.exit_code if isinstance(exc, DiskFull) else 1
    finally:
        log.close()
    return BackupSummary(tenant, snapshot.id, snapshot.time.isoformat(), outcomes,
                         writer.stats.new_bytes, time.monotonic() - started,
                         client.counters.as_dict(), recorded, catalog_code)


def _check_temp_space(repo: Repository, tenant: str, full: bool,
                      progress: BackupProgress) -> SpaceCheck:
    """Refuse a backup whose spools clearly cannot fit in TMPDIR; warn when tight."""
    newest = repo.snapshots(tenant)[-1:]
    objects = newest[0].object_count if newest else None
    checked = check_temp_space(objects, full=full)
    if checked.warning:
        progress.warning(checked.warning)
    return checked


@contextmanager
def _estimating(space: SpaceCheck) -> Iterator[None]:
    """A full TMPDIR in the block reported with the space a backup needs there."""
    try:
        yield
    except SpoolFull as exc:
        raise exc.needing(space.estimate) from exc


async def _run_types(context: TypeContext, scope: BackupScope,
                     progress: BackupProgress) -> list[TypeOutcome]:
    gate = asyncio.Semaphore(CONCURRENT_TYPES)

    async def one(job: TypeJob) -> TypeOutcome:
        async with gate:
            progress.started(job.name)
            outcome = await job.run()
            progress.finished(outcome)
            return outcome

    jobs = [TypeJob(context, object_type) for object_type in scope.object_types()]
    tasks = [asyncio.ensure_future(one(job)) for job in jobs]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        # A type that raised (a full disk, say) ends the run: stop the others before the
        # writer is closed under them, so the one error is the one reported.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
