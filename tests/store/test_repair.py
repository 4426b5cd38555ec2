"""``repair index``: a repository whose index files were lost or damaged is rebuilt from
the packs' own headers, and every snapshot reads back exactly."""

from __future__ import annotations

from pathlib import Path

import pytest

from entra_backup.store.backends.base import Backend
from entra_backup.store.backends.local import LocalBackend
from entra_backup.store.backends.memory import MemoryBackend
from entra_backup.store.check import check
from entra_backup.store.errors import CorruptBlob, MissingBlob
from entra_backup.store.files import INDEX_MAGIC, INDEX_PREFIX, open_file, pack_name
from entra_backup.store.index import decode_index, load_index
from entra_backup.store.lock import LockLost
from entra_backup.store.repair import drop_damaged, rebuild_index, rewrite_snapshots
from entra_backup.store.repository import Repository
from entra_backup.store.snapshot import Snapshot
from tests.store._support import group, new_repository, reopen, user, write_tenant


def _index_names(backend: Backend) -> list[str]:
    return sorted(info.name for info in backend.list(INDEX_PREFIX))


def _assert_reads_back(repo: Repository, snapshot: Snapshot, changed: frozenset[int]) -> None:
    users = dict(repo.objects(snapshot, "users"))
    assert users == {f"user-{n:05d}": user(n, int(n in changed)) for n in range(300)}
    groups = dict(repo.objects(snapshot, "groups"))
    assert groups == {f"group-{n:04d}": group(n) for n in range(40)}


def _index_file_holding(repo: Repository, blob_id: bytes) -> str:
    for name in _index_names(repo.backend):
        body = open_file(repo.keys, INDEX_MAGIC, repo.backend.read(name), name)
        packs, _ = decode_index(body, name)
        if any(entry.blob_id == blob_id for pack in packs for entry in pack.entries):
            return name
    raise AssertionError("no index file lists the blob")


def test_a_lost_index_file_is_rebuilt_from_the_packs(backend: Backend) -> None:
    repo = new_repository(backend)
    first = write_tenant(repo)
    second = write_tenant(repo, changed=frozenset({3, 150}))
    names = _index_names(backend)
    manifest = first.types["users"].manifest
    assert manifest is not None and len(names) > 1
    lost = _index_file_holding(repo, manifest)
    backend.delete(lost)
    broken = reopen(backend)
    with pytest.raises(MissingBlob, match="repair index"):
        _assert_reads_back(broken, broken.load_snapshot(first.id), frozenset())

    report = rebuild_index(broken, guard=lambda: None)

    assert report.blobs_missing_from_index > 0
    assert report.damaged_packs == []
    assert report.packs_read == len(list(backend.list("data/")))
    assert set(report.index_files_removed) == set(names) - {lost}
    assert _index_names(backend) == sorted(report.index_files_written)
    repaired = reopen(backend)
    _assert_reads_back(repaired, repaired.load_snapshot(first.id), frozenset())
    _assert_reads_back(repaired, repaired.load_snapshot(second.id), frozenset({3, 150}))
    assert check(repaired, read_data=True).ok


def test_a_dry_run_reports_and_writes_nothing(backend: Backend) -> None:
    repo = new_repository(backend)
    write_tenant(repo)
    backend.delete(_index_names(backend)[0])
    before = _index_names(backend)

    report = rebuild_index(reopen(backend), guard=lambda: None, dry_run=True)

    assert report.blobs_missing_from_index > 0
    assert report.index_files_written == [] and report.index_files_removed == []
    assert _index_names(backend) == before


def test_a_pack_whose_header_does_not_authenticate_is_reported_not_indexed() -> None:
    backend = MemoryBackend()
    repo = new_repository(backend)
    write_tenant(repo)
    location = next(location for _, location in repo.index.items())
    name = pack_name(location.pack_id)
    data = bytearray(backend.read(name))
    data[-10] ^= 0x01  # inside the sealed header's tag
    backend.delete(name)
    backend.create(name, bytes(data))

    report = rebuild_index(reopen(backend), guard=lambda: None)

    assert [pack.pack_id for pack in report.damaged_packs] == [location.pack_id]
    repaired = reopen(backend)
    assert location.pack_id not in repaired.index.pack_ids()
    assert not check(repaired).ok


def test_the_rebuild_writes_only_while_the_lock_is_held() -> None:
    backend = MemoryBackend()
    repo = new_repository(backend)
    write_tenant(repo)
    before = _index_names(backend)

    def lost() -> None:
        raise LockLost("taken over")

    with pytest.raises(LockLost):
        rebuild_index(reopen(backend), guard=lost)
    assert _index_names(backend) == before


def _flip_document(backend: Backend, repo: Repository, snapshot: Snapshot, object_id: str
                   ) -> tuple[str, bytes]:
    manifest = snapshot.types["users"].manifest
    assert manifest is not None
    blob_id = repo.manifests.lookup(manifest, object_id)
    assert blob_id is not None
    location = repo.index.get(blob_id)
    assert location is not None
    name = pack_name(location.pack_id)
    data = bytearray(backend.read(name))
    data[location.offset + location.length // 2] ^= 0x40
    backend.delete(name)
    backend.create(name, bytes(data))
    return location.pack_id, blob_id


def test_a_damaged_blob_is_marked_in_the_repository_and_the_next_backup_stores_it_again(
) -> None:
    backend = MemoryBackend()
    repo = new_repository(backend)
    first = write_tenant(repo)
    pack_id, blob_id = _flip_document(backend, repo, first, "user-00042")
    assert list(backend.list("damaged/")) == []

    report = check(reopen(backend), read_data=True)

    assert report.damage_marker is not None and report.found_damage[0][:2] == (pack_id, blob_id)
    assert [info.name for info in backend.list("damaged/")] == [report.damage_marker]
    other_client = reopen(backend)
    assert blob_id not in other_client.index
    with pytest.raises(CorruptBlob, match="marked damaged"):
        other_client.get(first, "users", "user-00042")
    again = write_tenant(other_client)
    stored_again = other_client.index.get(blob_id)
    assert stored_again is not None and stored_again.pack_id != pack_id
    after = reopen(backend)
    _assert_reads_back(after, after.load_snapshot(again.id), frozenset())
    _assert_reads_back(after, after.load_snapshot(first.id), frozenset())
    # Only the pack file's own hash still shows the flipped bit, until prune rewrites it.
    assert {p.kind for p in check(after, read_data=True).problems} == {"pack-damaged"}


def test_repair_packs_drops_the_marked_blobs_from_the_index_files() -> None:
    backend = MemoryBackend()
    repo = new_repository(backend)
    first = write_tenant(repo)
    _, blob_id = _flip_document(backend, repo, first, "user-00007")
    check(reopen(backend), read_data=True)

    dry = drop_damaged(reopen(backend), guard=lambda: None, dry_run=True)
    assert dry.blobs_dropped == 1 and dry.index_files_written == []
    done = drop_damaged(reopen(backend), guard=lambda: None)
    assert done.blobs_dropped == 1 and done.index_files_written

    unfiltered = load_index(backend, reopen(backend).keys).index
    assert unfiltered.get(blob_id) is None
    assert drop_damaged(reopen(backend), guard=lambda: None).blobs_dropped == 0
    rebuilt = rebuild_index(reopen(backend), guard=lambda: None)
    assert rebuilt.blobs_dropped == 1, "repair index never brings a marked copy back"
    assert load_index(backend, reopen(backend).keys).index.get(blob_id) is None


def test_repair_snapshots_records_objects_whose_data_was_lost_and_reads_the_rest() -> None:
    backend = MemoryBackend()
    repo = new_repository(backend)
    first = write_tenant(repo)
    _flip_document(backend, repo, first, "user-00042")
    check(reopen(backend), read_data=True)
    drop_damaged(reopen(backend), guard=lambda: None)

    dry = rewrite_snapshots(reopen(backend), guard=lambda: None, dry_run=True)
    assert dry.lost == {first.id: {"users": ["user-00042"]}}
    assert reopen(backend).snapshot_ids() == [first.id]

    done = rewrite_snapshots(reopen(backend), guard=lambda: None)
    new_id = done.rewritten[first.id]
    assert new_id is not None
    repaired = reopen(backend)
    assert repaired.snapshot_ids() == [new_id]
    snapshot = repaired.load_snapshot(new_id)
    assert snapshot.types["users"].lost == ("user-00042",)
    assert snapshot.types["users"].count == 299
    users = dict(repaired.objects(snapshot, "users"))
    assert "user-00042" not in users and len(users) == 299
    assert users["user-00041"] == user(41)
    assert dict(repaired.objects(snapshot, "groups")) == {
        f"group-{n:04d}": group(n) for n in range(40)}
    report = check(repaired)
    assert [w.kind for w in report.warnings if w.kind == "objects-lost"] == ["objects-lost"]
    assert not any(p.kind == "blob-missing" for p in report.problems)
    assert rewrite_snapshots(repaired, guard=lambda: None).rewritten == {}


def test_check_warns_of_partial_temporary_files_and_unreferenced_packs(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path / "repo")
    repo = new_repository(backend)
    write_tenant(repo, users=20, groups=2)
    assert check(reopen(backend)).warnings == []
    (tmp_path / "repo" / "snapshots" / ".tmp-0123").write_bytes(b"half a snapshot")
    (tmp_path / "repo" / "data" / "ff").mkdir(exist_ok=True)
    (tmp_path / "repo" / "data" / "ff" / ("f" * 64)).write_bytes(b"orphan")

    report = check(reopen(backend))

    assert report.ok
    assert sorted((w.kind, w.item) for w in report.warnings) == [
        ("pack-unreferenced", "f" * 64), ("temporary-file", "snapshots/.tmp-0123")]


def test_repair_packs_beside_a_damaged_index_file_keeps_what_only_that_file_held() -> None:
    backend = MemoryBackend()
    repo = new_repository(backend)
    first = write_tenant(repo)
    _, blob_id = _flip_document(backend, repo, first, "user-00007")
    check(reopen(backend), read_data=True)
    manifest = first.types["users"].manifest
    assert manifest is not None
    damaged = _index_file_holding(repo, manifest)
    data = bytearray(backend.read(damaged))
    data[-3] ^= 0x01
    backend.delete(damaged)
    backend.create(damaged, bytes(data))

    report = drop_damaged(reopen(backend), guard=lambda: None)

    assert report.blobs_dropped == 1 and report.packs_read > 0
    assert damaged not in _index_names(backend)
    repaired = reopen(backend)
    assert blob_id not in repaired.index
    assert len(dict(repaired.objects(repaired.load_snapshot(first.id), "groups"))) == 40
    assert repaired.get(first, "users", "user-00008") == user(8)
