"""Prune removes what no snapshot references, keeps everything else readable, and refuses
to run on a damaged repository."""

from __future__ import annotations

import pytest

from entra_backup.store.backends.memory import MemoryBackend
from entra_backup.store.blob import BlobKind
from entra_backup.store.check import check
from entra_backup.store.errors import CheckFailed
from entra_backup.store.files import DATA_PREFIX, pack_name
from entra_backup.store.prune import prune
from entra_backup.store.repository import Repository
from entra_backup.store.retention import RetentionPolicy, forget
from entra_backup.store.stats import total_file_bytes
from tests.store._support import reopen, user, write_tenant


def test_prune_after_forget_frees_space_and_keeps_the_rest_readable(
    repo: Repository, backend: MemoryBackend,
) -> None:
    write_tenant(repo, users=300)
    kept = write_tenant(repo, users=300, changed=frozenset(range(0, 300, 2)))
    forget(repo, RetentionPolicy(keep_last=1))
    before = total_file_bytes(backend, [DATA_PREFIX])
    result = prune(repo)
    assert result.deleted_packs > 0
    assert result.plan.unused_blobs >= 150
    assert total_file_bytes(backend, [DATA_PREFIX]) < before
    again = reopen(backend)
    assert check(again, read_data=True).ok
    assert dict(again.objects(kept, "users")) == {
        f"user-{n:05d}": user(n, int(n % 2 == 0)) for n in range(300)
    }


def test_partly_used_packs_are_repacked(repo: Repository, backend: MemoryBackend) -> None:
    write_tenant(repo, users=300)
    kept = write_tenant(repo, users=300, changed=frozenset(range(0, 300, 5)))
    forget(repo, RetentionPolicy(keep_last=1))
    result = prune(repo, repack_threshold=0.0)
    assert result.plan.repack and result.repacked_blobs > 0
    assert prune(repo, repack_threshold=0.0).plan.unused_blobs == 0
    assert check(reopen(backend), read_data=True).ok
    assert reopen(backend).get(kept, "users", "user-00005") == user(5, 1)


def test_prune_removes_packs_of_an_aborted_writer(repo: Repository) -> None:
    write_tenant(repo, users=100)
    with pytest.raises(RuntimeError), repo.writer("contoso") as writer:
        for number in range(300):
            writer.add("users", f"other-{number}", {"n": number, "pad": f"{number}" * 90})
        raise RuntimeError("interrupted")
    assert any(w.kind == "pack-unreferenced" for w in check(repo).warnings)
    result = prune(repo)
    assert result.deleted_packs > 0
    assert check(repo).warnings == []


def test_prune_keeps_compression_dictionaries(repo: Repository, backend: MemoryBackend) -> None:
    first = write_tenant(repo, users=300)
    write_tenant(repo, users=300, changed=frozenset(range(300)))
    forget(repo, RetentionPolicy(keep_last=1))
    prune(repo, repack_threshold=0.0)
    dictionary = first.types["users"].dictionary
    assert dictionary is not None
    location = reopen(backend).index.get(dictionary)
    assert location is not None and location.kind == BlobKind.DICTIONARY


def test_prune_refuses_a_repository_that_fails_check(
    repo: Repository, backend: MemoryBackend,
) -> None:
    snapshot = write_tenant(repo, users=50)
    manifest = snapshot.types["users"].manifest
    assert manifest is not None
    location = repo.index.get(manifest)
    assert location is not None
    backend.delete(pack_name(location.pack_id))
    files = sorted(info.name for info in backend.list())
    with pytest.raises(CheckFailed, match="refusing to prune"):
        prune(repo)
    assert sorted(info.name for info in backend.list()) == files


def test_a_dry_run_changes_nothing(repo: Repository, backend: MemoryBackend) -> None:
    write_tenant(repo, users=100)
    write_tenant(repo, users=100, changed=frozenset(range(100)))
    forget(repo, RetentionPolicy(keep_last=1))
    files = sorted(info.name for info in backend.list())
    result = prune(repo, dry_run=True)
    assert (result.plan.delete or result.plan.repack) and result.deleted_packs == 0
    assert sorted(info.name for info in backend.list()) == files
