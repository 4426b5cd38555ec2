"""Damage and tampering: check names exactly what is damaged and who is affected;
reading damaged data raises a clear error and never returns wrong data."""

from __future__ import annotations

import pytest

from entra_backup.store.backends.memory import MemoryBackend
from entra_backup.store.blob import BlobKind
from entra_backup.store.check import CheckReport, check
from entra_backup.store.errors import (
    CorruptBlob,
    IntegrityError,
    MissingBlob,
    MissingPack,
    SnapshotNotFound,
)
from entra_backup.store.files import (
    INDEX_MAGIC,
    INDEX_PREFIX,
    SNAPSHOT_PREFIX,
    open_file,
    pack_name,
)
from entra_backup.store.index import Location, decode_index
from entra_backup.store.prune import prune
from entra_backup.store.repository import Repository
from entra_backup.store.retention import RetentionPolicy, forget
from entra_backup.store.snapshot import Snapshot
from tests.store._support import new_repository, reopen, write_tenant

Affected = set[tuple[str, str, str | None]]


@pytest.fixture
def two_snapshots(backend: MemoryBackend) -> tuple[Repository, Snapshot, Snapshot]:
    repo = new_repository(backend)
    first = write_tenant(repo)
    second = write_tenant(repo, changed=frozenset({3, 150}))
    return reopen(backend), first, second


def replace(backend: MemoryBackend, name: str, data: bytes) -> None:
    backend.delete(name)
    backend.create(name, data)


def flip(backend: MemoryBackend, name: str, position: int) -> None:
    data = bytearray(backend.read(name))
    data[position] ^= 0x40
    replace(backend, name, bytes(data))


def document_blob(repo: Repository, snapshot: Snapshot, type_name: str, object_id: str) -> bytes:
    manifest = snapshot.types[type_name].manifest
    assert manifest is not None
    blob_id = repo.manifests.lookup(manifest, object_id)
    assert blob_id is not None
    return blob_id


def objects_needing(repo: Repository, blobs: set[bytes]) -> Affected:
    """Every (snapshot, type, object) whose document is one of ``blobs``, computed afresh."""
    found: Affected = set()
    for snapshot in repo.snapshots():
        for type_name, entry in snapshot.types.items():
            assert entry.manifest is not None
            for object_id, blob_id in repo.manifests.entries(entry.manifest):
                if blob_id in blobs:
                    found.add((snapshot.id, type_name, object_id))
    return found


def affected(report: CheckReport) -> Affected:
    return {(item.snapshot, item.type_name, item.object_id) for item in report.affected}


def documents_in_pack(repo: Repository, pack_id: str) -> set[bytes]:
    return {b for b, loc in repo.index.items() if loc.pack_id == pack_id
            and loc.kind == BlobKind.DOCUMENT}


def test_a_healthy_repository_passes_check_with_read_data(
    two_snapshots: tuple[Repository, Snapshot, Snapshot],
) -> None:
    repo, _, _ = two_snapshots
    report = check(repo, read_data=True)
    assert report.ok, report.problems
    assert report.snapshots_checked == 2
    assert report.blobs_read == len(repo.index)


def test_a_flipped_byte_in_a_pack_names_the_blob_and_every_object_using_it(
    backend: MemoryBackend, two_snapshots: tuple[Repository, Snapshot, Snapshot],
) -> None:
    repo, first, second = two_snapshots
    blob_id = document_blob(repo, first, "users", "user-00042")
    location = repo.index.get(blob_id)
    assert location is not None
    flip(backend, pack_name(location.pack_id), location.offset + location.length // 2)

    assert check(repo).ok, "structure alone cannot see damaged bytes"
    report = check(repo, read_data=True)
    assert set(report.damaged_blobs) == {blob_id.hex()}
    assert affected(report) == {(first.id, "users", "user-00042"),
                                (second.id, "users", "user-00042")}
    assert {p.kind for p in report.problems} == {"pack-damaged", "blob-damaged"}
    with pytest.raises(CorruptBlob, match=blob_id.hex()):
        repo.get(second, "users", "user-00042")
    assert repo.get(second, "users", "user-00041")["id"] == "user-00041"


def test_a_truncated_pack_names_the_lost_blobs(
    backend: MemoryBackend, two_snapshots: tuple[Repository, Snapshot, Snapshot],
) -> None:
    repo, first, _ = two_snapshots
    location = repo.index.get(document_blob(repo, first, "users", "user-00100"))
    assert location is not None
    name = pack_name(location.pack_id)
    replace(backend, name, backend.read(name)[: location.offset + 5])
    lost = {b for b, loc in repo.index.items()
            if loc.pack_id == location.pack_id and loc.offset + loc.length > location.offset}

    report = check(repo, read_data=True)
    assert set(report.damaged_blobs) == {b.hex() for b in lost}
    assert affected(report) == objects_needing(repo, lost)
    assert "pack-truncated" in {p.kind for p in report.problems}
    with pytest.raises(CorruptBlob, match="truncated"):
        repo.get(first, "users", "user-00100")


def test_a_deleted_pack_names_all_its_blobs(
    backend: MemoryBackend, two_snapshots: tuple[Repository, Snapshot, Snapshot],
) -> None:
    repo, first, _ = two_snapshots
    location = repo.index.get(document_blob(repo, first, "users", "user-00200"))
    assert location is not None
    lost = documents_in_pack(repo, location.pack_id)
    backend.delete(pack_name(location.pack_id))

    report = check(repo)
    assert [p.item for p in report.problems if p.kind == "pack-missing"] == [location.pack_id]
    assert affected(report) == objects_needing(repo, lost)
    with pytest.raises(MissingPack, match=location.pack_id):
        repo.get(first, "users", "user-00200")


@pytest.mark.parametrize("damage", ["flip", "truncate", "delete"])
def test_a_damaged_index_file_names_it_and_the_unindexed_objects(
    backend: MemoryBackend, two_snapshots: tuple[Repository, Snapshot, Snapshot], damage: str,
) -> None:
    repo, first, _ = two_snapshots
    location = repo.index.get(document_blob(repo, first, "users", "user-00010"))
    assert location is not None
    index_name = _index_file_of(repo, backend, location.pack_id)
    unindexed = _blobs_listed_only_in(repo, backend, index_name)
    data = backend.read(index_name)
    if damage == "flip":
        flip(backend, index_name, len(data) // 2)
    elif damage == "truncate":
        replace(backend, index_name, data[: len(data) // 3])
    else:
        backend.delete(index_name)

    report = check(reopen(backend))
    assert not report.ok
    if damage != "delete":
        assert [p.item for p in report.problems if p.kind == "index-damaged"] == [index_name]
    assert affected(report) >= objects_needing(repo, unindexed)
    assert {a.blob for a in report.affected} <= {b.hex() for b in unindexed}
    with pytest.raises(MissingBlob):
        reopen(backend).get(first, "users", "user-00010")


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_a_damaged_snapshot_is_named_and_the_others_stay_readable(
    backend: MemoryBackend, two_snapshots: tuple[Repository, Snapshot, Snapshot], damage: str,
) -> None:
    _, first, second = two_snapshots
    name = SNAPSHOT_PREFIX + first.id
    if damage == "flip":
        flip(backend, name, 40)
    else:
        replace(backend, name, backend.read(name)[:30])
    repo = reopen(backend)
    report = check(repo, read_data=True)
    assert [(p.kind, p.item) for p in report.problems] == [("snapshot-damaged", first.id)]
    assert report.affected_snapshots == {first.id}
    assert [s.id for s in repo.snapshots()] == [second.id]
    with pytest.raises(IntegrityError):
        repo.load_snapshot(first.id)


def test_a_deleted_snapshot_is_gone_and_the_rest_checks_clean(
    backend: MemoryBackend, two_snapshots: tuple[Repository, Snapshot, Snapshot],
) -> None:
    _, first, second = two_snapshots
    backend.delete(SNAPSHOT_PREFIX + second.id)
    repo = reopen(backend)
    assert check(repo, read_data=True).ok
    assert [s.id for s in repo.snapshots()] == [first.id]
    with pytest.raises(SnapshotNotFound):
        repo.load_snapshot(second.id)


def test_swapped_ciphertexts_fail_to_open(
    backend: MemoryBackend, two_snapshots: tuple[Repository, Snapshot, Snapshot],
) -> None:
    repo, first, _ = two_snapshots
    pack, a, b = _two_same_length_documents(repo)
    name = pack_name(pack)
    data = bytearray(backend.read(name))
    data[a.offset : a.offset + a.length], data[b.offset : b.offset + b.length] = (
        data[b.offset : b.offset + b.length], data[a.offset : a.offset + a.length])
    replace(backend, name, bytes(data))
    swapped = {blob for blob, loc in repo.index.items() if loc in (a, b)}
    report = check(repo, read_data=True)
    assert set(report.damaged_blobs) == {x.hex() for x in swapped}
    assert affected(report) == objects_needing(repo, swapped)
    for _, type_name, object_id in affected(report):
        assert object_id is not None
        with pytest.raises(CorruptBlob):
            repo.get(first, type_name, object_id)


def test_a_replayed_old_index_is_reported_and_ignored(backend: MemoryBackend) -> None:
    repo = new_repository(backend)
    write_tenant(repo, users=200)
    write_tenant(repo, users=100, changed=frozenset(range(100)))
    old_indexes = {i.name: backend.read(i.name) for i in backend.list(INDEX_PREFIX)}
    forget(repo, RetentionPolicy(keep_last=1))
    prune(repo, repack_threshold=0.0)
    assert check(repo, read_data=True).ok
    replayed, data = next(iter(old_indexes.items()))
    backend.create(replayed, data)

    repo = reopen(backend)
    report = check(repo, read_data=True)
    assert [(p.kind, p.item) for p in report.problems] == [("index-stale", replayed)]
    assert "replayed" in report.problems[0].message
    latest = repo.load_snapshot("latest")
    assert sum(1 for _ in repo.objects(latest, "users")) == 100


def _index_file_of(repo: Repository, backend: MemoryBackend, pack_id: str) -> str:
    for info in backend.list(INDEX_PREFIX):
        body = open_file(repo.keys, INDEX_MAGIC, backend.read(info.name), info.name)
        if any(p.pack_id == pack_id for p in decode_index(body, info.name)[0]):
            return info.name
    raise AssertionError("pack in no index file")


def _blobs_listed_only_in(repo: Repository, backend: MemoryBackend, name: str) -> set[bytes]:
    body = open_file(repo.keys, INDEX_MAGIC, backend.read(name), name)
    return {e.blob_id for p in decode_index(body, name)[0] for e in p.entries}


def _two_same_length_documents(repo: Repository) -> tuple[str, Location, Location]:
    by_length: dict[tuple[str, int], Location] = {}
    for _, location in repo.index.items():
        if location.kind != BlobKind.DOCUMENT:
            continue
        key = (location.pack_id, location.length)
        if key in by_length:
            return location.pack_id, by_length[key], location
        by_length[key] = location
    raise AssertionError("no two documents of equal length in one pack")
