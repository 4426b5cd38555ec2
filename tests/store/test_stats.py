"""Stats: sizes and ratios per snapshot and per repository; check on a subset of packs."""

from __future__ import annotations

from entra_backup.store.backends.memory import MemoryBackend
from entra_backup.store.check import check
from entra_backup.store.repository import Repository
from entra_backup.store.stats import repository_stats, snapshot_stats
from tests.store._support import write_tenant


def test_a_repeated_snapshot_doubles_logical_size_but_not_stored_size(
    repo: Repository, backend: MemoryBackend,
) -> None:
    first = write_tenant(repo)
    one = snapshot_stats(repo, first)
    assert one.objects == 340
    assert one.logical_bytes == first.logical_bytes == one.unique_bytes
    assert one.compression_ratio > 2, "documents of one type compress well with a dictionary"
    write_tenant(repo)
    both = repository_stats(repo)
    assert both.sizes.snapshots == 2
    assert both.sizes.logical_bytes == 2 * one.logical_bytes
    assert both.sizes.stored_bytes == one.stored_bytes
    assert both.sizes.dedup_ratio == 2.0
    assert both.files_bytes > both.sizes.stored_bytes
    assert both.indexed_blobs == len(repo.index)


def test_check_can_read_a_subset_of_packs(repo: Repository) -> None:
    write_tenant(repo)
    packs = len(repo.index.pack_ids())
    assert check(repo, read_data_subset=10, seed=1).packs_read == -(-packs // 10)
    assert check(repo, read_data_subset=100).packs_read == packs
    assert check(repo).packs_read == 0
