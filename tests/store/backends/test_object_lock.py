"""Object Lock: a retained file can be neither deleted nor overwritten through a backend."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from entra_backup.store.backends.base import AlreadyExists, Backend, ObjectLocked
from entra_backup.store.backends.memory import MemoryBackend
from entra_backup.store.backends.s3 import ObjectLockPolicy
from tests.store.backends.conftest import BucketMaker, S3BackendMaker

RETENTION = timedelta(days=30)


@pytest.fixture(params=["memory", "s3"])
def locked(request: pytest.FixtureRequest) -> Backend:
    """A backend that retains every new file for 30 days."""
    if request.param == "memory":
        return MemoryBackend(retention=RETENTION.total_seconds())
    bucket = request.getfixturevalue("make_bucket")(object_lock=True)
    maker: S3BackendMaker = request.getfixturevalue("make_s3_backend")
    return maker(bucket, prefix="repo", object_lock=ObjectLockPolicy(retention=RETENTION))


def test_retained_file_cannot_be_deleted_and_stays_readable(locked: Backend) -> None:
    locked.create("snapshots/s1", b"precious")
    with pytest.raises(ObjectLocked, match="retained until"):
        locked.delete("snapshots/s1")
    assert locked.read("snapshots/s1") == b"precious"
    assert [info.name for info in locked.list("snapshots/")] == ["snapshots/s1"]


def test_retained_file_cannot_be_overwritten(locked: Backend) -> None:
    locked.create("data/pack", b"original")
    with pytest.raises(AlreadyExists):
        locked.create("data/pack", b"ransom")
    assert locked.read("data/pack") == b"original"


def test_memory_retention_ends_with_the_clock() -> None:
    now = [1_000.0]
    backend = MemoryBackend(retention=60.0, clock=lambda: now[0])
    backend.create("data/pack", b"x")
    now[0] += 59.0
    with pytest.raises(ObjectLocked):
        backend.delete("data/pack")
    now[0] += 2.0
    backend.delete("data/pack")
    assert not backend.exists("data/pack")


def test_s3_objects_carry_mode_and_retain_until(
    make_bucket: BucketMaker, make_s3_backend: S3BackendMaker, s3_client: Any
) -> None:
    bucket = make_bucket(object_lock=True)
    policy = ObjectLockPolicy(retention=timedelta(days=7), mode="GOVERNANCE")
    make_s3_backend(bucket, prefix="repo", object_lock=policy).create("index/i1", b"x")
    head = s3_client.head_object(Bucket=bucket, Key="repo/index/i1")
    assert head["ObjectLockMode"] == "GOVERNANCE"
    expected = datetime.now(UTC) + timedelta(days=7)
    assert abs(head["ObjectLockRetainUntilDate"] - expected) < timedelta(minutes=5)


def test_s3_lock_files_are_exempt_and_removable(
    make_bucket: BucketMaker, make_s3_backend: S3BackendMaker
) -> None:
    bucket = make_bucket(object_lock=True)
    backend = make_s3_backend(bucket, object_lock=ObjectLockPolicy(retention=RETENTION))
    backend.create("locks/holder.00000001", b"{}")
    backend.delete("locks/holder.00000001")
    assert not backend.exists("locks/holder.00000001")


def test_s3_plain_delete_by_someone_else_hides_but_keeps_the_data(
    make_bucket: BucketMaker, make_s3_backend: S3BackendMaker, s3_client: Any
) -> None:
    bucket = make_bucket(object_lock=True)
    backend = make_s3_backend(bucket, object_lock=ObjectLockPolicy(retention=RETENTION))
    backend.create("snapshots/s1", b"precious")
    version = s3_client.head_object(Bucket=bucket, Key="snapshots/s1")["VersionId"]
    s3_client.delete_object(Bucket=bucket, Key="snapshots/s1")
    assert not backend.exists("snapshots/s1")
    kept = s3_client.get_object(Bucket=bucket, Key="snapshots/s1", VersionId=version)
    assert kept["Body"].read() == b"precious"


def test_s3_delete_after_retention_removes_the_data_for_good(
    make_bucket: BucketMaker, make_s3_backend: S3BackendMaker, s3_client: Any
) -> None:
    bucket = make_bucket(object_lock=True)
    policy = ObjectLockPolicy(retention=timedelta(seconds=60))
    # A writer whose clock lags two minutes behind sets a retention that has already ended.
    lagging = make_s3_backend(bucket, object_lock=policy, clock=lambda: time.time() - 120)
    lagging.create("data/old", b"expired")
    lagging.delete("data/old")
    versions = s3_client.list_object_versions(Bucket=bucket, Prefix="data/old")
    assert versions.get("Versions", []) == []
    assert versions.get("DeleteMarkers", []) == []
