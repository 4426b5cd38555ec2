"""Storage statistics: logical size, stored size, deduplication and compression ratios.

* *logical* bytes: the canonical JSON a snapshot represents (each object counted in every
  snapshot that holds it);
* *unique* bytes: the plaintext of the distinct blobs those snapshots reference;
* *stored* bytes: the sealed, compressed size of those blobs in packs;
* *manifest* bytes: the sealed size of the manifests and chunks (not in the ratios);
* deduplication ratio = logical / unique; compression ratio = unique / stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from entra_backup.store.backends.base import Backend
from entra_backup.store.blob import BlobKind
from entra_backup.store.repository import Repository
from entra_backup.store.snapshot import Snapshot
from entra_backup.store.walk import all_references


@dataclass(frozen=True, slots=True)
class SizeStats:
    """Sizes of a set of snapshots."""

    snapshots: int
    objects: int
    blobs: int
    logical_bytes: int
    unique_bytes: int
    stored_bytes: int
    manifest_bytes: int

    @property
    def dedup_ratio(self) -> float:
        """Logical bytes per unique byte (1.0 means no deduplication)."""
        return self.logical_bytes / self.unique_bytes if self.unique_bytes else 1.0

    @property
    def compression_ratio(self) -> float:
        """Unique bytes per stored byte."""
        return self.unique_bytes / self.stored_bytes if self.stored_bytes else 1.0


@dataclass(frozen=True, slots=True)
class RepositoryStats:
    """Whole-repository figures."""

    sizes: SizeStats
    files_bytes: int
    pack_count: int
    indexed_blobs: int


def snapshot_stats(repo: Repository, snapshot: Snapshot) -> SizeStats:
    """Sizes of one snapshot."""
    return _sizes(repo, [snapshot])


def repository_stats(repo: Repository) -> RepositoryStats:
    """Sizes over every snapshot plus the bytes of every repository file."""
    sizes = _sizes(repo, repo.snapshots())
    return RepositoryStats(
        sizes=sizes,
        files_bytes=total_file_bytes(repo.backend),
        pack_count=len(repo.index.pack_ids()),
        indexed_blobs=len(repo.index),
    )


def total_file_bytes(backend: Backend, prefixes: Iterable[str] = ("",)) -> int:
    """Bytes of every file under the prefixes (locks included)."""
    return sum(info.size for prefix in prefixes for info in backend.list(prefix))


def _sizes(repo: Repository, snapshots: list[Snapshot]) -> SizeStats:
    seen: set[bytes] = set()
    unique = stored = manifest = 0
    for snapshot in snapshots:
        for reference in all_references(repo.manifests, snapshot):
            if reference.blob_id in seen:
                continue
            seen.add(reference.blob_id)
            location = repo.index.get(reference.blob_id)
            if location is None:
                continue
            if reference.kind == BlobKind.DOCUMENT:
                unique += location.raw_length
                stored += location.length
            else:
                manifest += location.length
    return SizeStats(
        snapshots=len(snapshots),
        objects=sum(s.object_count for s in snapshots),
        blobs=len(seen),
        logical_bytes=sum(s.logical_bytes for s in snapshots),
        unique_bytes=unique,
        stored_bytes=stored,
        manifest_bytes=manifest,
    )
