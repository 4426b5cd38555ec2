"""Keeping the catalog in step with the repository: recording new snapshots, and reindex.

The repository is the source of truth; the catalog is rebuilt from it by
:class:`RepositorySource` (the catalog's ``SnapshotSource``), and a backup records its
snapshot right after committing it, with only the changes when the catalog is up to date.
"""

from __future__ import annotations

from collections.abc import Iterator

from entra_backup.catalog import (
    Catalog,
    CatalogOutOfDate,
    ObjectVersion,
    SnapshotInfo,
    reindex,
)
from entra_backup.catalog.fields import version_hash
from entra_backup.domain.object_types import names
from entra_backup.store.repository import Repository
from entra_backup.store.snapshot import Snapshot

_KNOWN = frozenset(names())


def snapshot_info(snapshot: Snapshot,
                  changes_only: dict[str, tuple[str, ...]] | None = None) -> SnapshotInfo:
    """The catalog's view of a snapshot (internal types left out)."""
    return SnapshotInfo(
        id=snapshot.id, tenant=snapshot.tenant, time=snapshot.time,
        type_status={name: entry.status.value for name, entry in snapshot.types.items()
                     if name in _KNOWN},
        parent=snapshot.parent, changes_only=changes_only or {},
    )


class RepositorySource:
    """The repository as the catalog's ``SnapshotSource``: every snapshot, every object."""

    def __init__(self, repo: Repository, tenant: str | None = None) -> None:
        self.repo = repo
        self.tenant = tenant
        self._by_id: dict[str, Snapshot] = {}

    def snapshots(self) -> list[SnapshotInfo]:
        """Every readable snapshot (of the tenant, if one was given)."""
        found = self.repo.snapshots(self.tenant)
        self._by_id = {snapshot.id: snapshot for snapshot in found}
        return [snapshot_info(snapshot) for snapshot in found]

    def versions(self, info: SnapshotInfo) -> Iterator[ObjectVersion]:
        """Stream a snapshot's objects, every type it holds."""
        snapshot = self._by_id.get(info.id) or self.repo.load_snapshot(info.id)
        for type_name, entry in sorted(snapshot.types.items()):
            if type_name not in _KNOWN or entry.manifest is None:
                continue
            for object_id, document in self.repo.objects(snapshot, type_name, order="storage"):
                yield ObjectVersion(type_name, object_id, version_hash(document), document)


def record(catalog: Catalog, repo: Repository, snapshot: Snapshot,
           versions: Iterator[ObjectVersion], changes_only: dict[str, tuple[str, ...]]) -> str:
    """Record a committed snapshot; return how (``changes``, ``full`` or ``reindexed``).

    Changes alone are only valid when the catalog holds the snapshot's parent; when it
    missed earlier snapshots (it was deleted, or a backup stopped between its commit and
    this step), the catalog is rebuilt from the repository instead.
    """
    try:
        catalog.record(snapshot_info(snapshot, changes_only), versions)
    except CatalogOutOfDate:
        reindex(catalog, RepositorySource(repo))
        return "reindexed"
    return "changes" if changes_only else "full"
