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

    When the catalog missed earlier snapshots (it was deleted, or a backup stopped after
    its commit), the snapshot is recorded from the repository in full instead, and if the
    catalog is behind by more than one snapshot it is rebuilt.
    """
    try:
        catalog.record(snapshot_info(snapshot, changes_only), versions)
        return "changes" if changes_only else "full"
    except CatalogOutOfDate:
        pass
    recorded = set(catalog.snapshot_ids(snapshot.tenant))
    earlier = [item for item in repo.snapshots(snapshot.tenant) if item.id != snapshot.id]
    if all(item.id in recorded for item in earlier):
        source = RepositorySource(repo, snapshot.tenant)
        source.snapshots()
        catalog.record(snapshot_info(snapshot), source.versions(snapshot_info(snapshot)))
        return "full"
    reindex(catalog, RepositorySource(repo))
    return "reindexed"
