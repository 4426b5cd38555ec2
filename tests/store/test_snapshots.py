"""Writing snapshots and reading them back through the repository API."""

from __future__ import annotations

import pytest

from entra_backup.store.backends.memory import MemoryBackend
from entra_backup.store.check import check
from entra_backup.store.errors import (
    AmbiguousSnapshotId,
    ObjectNotFound,
    SnapshotNotFound,
    WriterError,
)
from entra_backup.store.lock import LockHeld
from entra_backup.store.repository import Repository
from entra_backup.store.snapshot import TypeStatus
from tests.store._support import group, reopen, user, write_tenant


def test_a_snapshot_reads_back_from_a_reopened_repository(
    repo: Repository, backend: MemoryBackend
) -> None:
    snapshot = write_tenant(repo)
    again = reopen(backend)
    loaded = again.load_snapshot("latest", "contoso")
    assert loaded.id == snapshot.id
    assert loaded.types["users"].count == 300
    assert loaded.types["groups"].status is TypeStatus.OK
    users = list(again.objects(loaded, "users"))
    assert [object_id for object_id, _ in users] == [f"user-{n:05d}" for n in range(300)]
    assert users[42][1] == user(42)
    assert again.get(loaded, "groups", "group-0007") == group(7)


def test_snapshots_are_found_by_id_prefix_and_latest(repo: Repository) -> None:
    first = write_tenant(repo, users=5, groups=1)
    second = write_tenant(repo, users=6, groups=1)
    assert repo.load_snapshot(first.id[:10]).id == first.id
    assert repo.load_snapshot("latest").id == second.id
    assert [s.id for s in repo.snapshots("contoso")] == [first.id, second.id]
    with pytest.raises(SnapshotNotFound):
        repo.load_snapshot("latest", "fabrikam")
    with pytest.raises(SnapshotNotFound):
        repo.load_snapshot("0" * 64)
    with pytest.raises(SnapshotNotFound):
        repo.load_snapshot("not-hex")


def test_an_ambiguous_prefix_is_refused(repo: Repository) -> None:
    ids = [write_tenant(repo, users=1, groups=0, changed=frozenset({0}) if n % 2 else frozenset(),
                        tenant=f"t{n}").id for n in range(17)]
    shared = next(i[0] for i in ids if sum(other[0] == i[0] for other in ids) > 1)
    with pytest.raises(AmbiguousSnapshotId, match="give more characters"):
        repo.load_snapshot(shared)


def test_an_unchanged_tenant_costs_only_the_snapshot_file(repo: Repository) -> None:
    first = write_tenant(repo)
    with repo.writer("contoso") as writer:
        for number in range(300):
            writer.add("users", f"user-{number:05d}", user(number))
        writer.reuse("groups", first)
        second = writer.commit()
    assert writer.stats.new_blobs == 0
    assert writer.stats.files == [f"snapshots/{second.id}"]
    assert second.types["users"].manifest == first.types["users"].manifest
    assert second.types["groups"].reused_from == first.id


def test_changed_and_removed_objects_keep_old_versions_readable(repo: Repository) -> None:
    first = write_tenant(repo, users=300)
    with repo.writer("contoso") as writer:
        for number in range(1, 300):
            writer.add("users", f"user-{number:05d}", user(number, 1 if number == 5 else 0))
        second = writer.commit()
    assert writer.stats.new_blobs <= 4, "one changed document, one delta chunk, one manifest"
    assert repo.get(second, "users", "user-00005") == user(5, 1)
    assert repo.get(first, "users", "user-00005") == user(5, 0)
    with pytest.raises(ObjectNotFound):
        repo.get(second, "users", "user-00000")
    assert repo.get(first, "users", "user-00000") == user(0)
    assert next(repo.object_ids(second, "users")) == "user-00001"
    assert sum(1 for _ in repo.objects(second, "users")) == second.types["users"].count == 299


def test_a_large_change_writes_a_full_manifest_again(repo: Repository) -> None:
    write_tenant(repo, users=3000, groups=0)
    changed = frozenset(range(3000))
    second = write_tenant(repo, users=3000, groups=0, changed=changed)
    manifest = second.types["users"].manifest
    assert manifest is not None
    assert repo.manifests.manifest(manifest).base is None
    assert repo.get(second, "users", "user-00002") == user(2, 1)


def test_type_statuses_are_recorded(repo: Repository) -> None:
    first = write_tenant(repo, users=3, groups=2)
    with repo.writer("contoso") as writer:
        writer.add("users", "user-00000", user(0))
        writer.fail("groups", "403 Forbidden: Group.Read.All missing", carry_forward=first)
        writer.skip("devices", "not selected")
        writer.start_type("administrativeUnits")
        snapshot = writer.commit()
    assert snapshot.types["groups"].status is TypeStatus.FAILED
    assert snapshot.types["groups"].message == "403 Forbidden: Group.Read.All missing"
    assert repo.get(snapshot, "groups", "group-0001") == group(1)
    assert snapshot.types["devices"].status is TypeStatus.SKIPPED
    assert snapshot.types["administrativeUnits"].count == 0
    assert list(repo.objects(snapshot, "administrativeUnits")) == []
    with pytest.raises(ObjectNotFound):
        list(repo.objects(snapshot, "devices"))


def test_an_object_added_twice_is_refused(repo: Repository) -> None:
    with repo.writer("contoso") as writer:
        writer.add("users", "same", {"a": 1})
        writer.add("users", "same", {"a": 2})
        with pytest.raises(WriterError, match="added twice"):
            writer.commit()
    assert repo.snapshots() == []


def test_a_committed_writer_cannot_be_used_again(repo: Repository) -> None:
    with repo.writer("contoso") as writer:
        writer.add("users", "a", {"a": 1})
        writer.commit()
    with pytest.raises(WriterError):
        writer.add("users", "b", {"b": 1})


def test_only_one_writer_at_a_time(repo: Repository) -> None:
    with repo.writer("contoso"), pytest.raises(LockHeld):
        repo.writer("contoso")
    with repo.writer("contoso") as writer:
        writer.add("users", "a", {"a": 1})
        writer.commit()


def test_an_aborted_writer_leaves_a_healthy_repository(repo: Repository) -> None:
    with pytest.raises(RuntimeError), repo.writer("contoso") as writer:
        for number in range(400):
            writer.add("users", f"user-{number:05d}", user(number))
        raise RuntimeError("Graph went away")
    assert repo.snapshots() == []
    assert check(repo).ok
    snapshot = write_tenant(repo)
    assert repo.get(snapshot, "users", "user-00299") == user(299)


def test_a_type_gets_a_compression_dictionary(repo: Repository) -> None:
    first = write_tenant(repo, users=300)
    dictionary = first.types["users"].dictionary
    assert dictionary is not None
    second = write_tenant(repo, users=300, changed=frozenset({1}))
    assert second.types["users"].dictionary == dictionary
    assert second.types["groups"].dictionary is None, "too few groups to train on"


def test_a_writer_keeps_its_lock_alive_while_it_runs(repo: Repository) -> None:
    with repo.writer("contoso") as writer:
        lock = writer._lock
        assert lock._refresher is not None and lock._refresher.is_alive()
        writer.add("users", "a", {"a": 1})
        writer.commit()
    assert lock._refresher is None
    assert list(repo.backend.list("locks/")) == []
