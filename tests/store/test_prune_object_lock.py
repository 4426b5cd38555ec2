"""Prune and forget on an S3 repository under Object Lock (the moto S3 server): files whose
retention ended are reclaimed, files still retained are planned around, and the
repository passes ``check`` afterwards either way.

Expired retention is produced as in ``backends/test_object_lock.py``: a writer whose clock
lags behind sets a retain-until date that has already passed.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from entra_backup.store.backends.s3 import ObjectLockPolicy, S3Backend
from entra_backup.store.check import check
from entra_backup.store.files import INDEX_PREFIX, SNAPSHOT_PREFIX
from entra_backup.store.prune import prune
from entra_backup.store.retention import RetentionPolicy, forget
from tests.store._support import new_repository, reopen, user, write_tenant
from tests.store.conftest import BucketMaker, S3BackendMaker

EXPIRED = ObjectLockPolicy(retention=timedelta(seconds=60), mode="GOVERNANCE")
CURRENT = ObjectLockPolicy(retention=timedelta(days=1), mode="GOVERNANCE")


def _backends(bucket: str, make: S3BackendMaker) -> tuple[S3Backend, S3Backend]:
    """One backend writing already-expired retention, one writing a day of retention."""
    lagging = make(bucket, prefix="repo", object_lock=EXPIRED, clock=lambda: time.time() - 120)
    return lagging, make(bucket, prefix="repo", object_lock=CURRENT)


def _index_names(backend: S3Backend) -> set[str]:
    return {info.name for info in backend.list(INDEX_PREFIX)}


def test_prune_reclaims_expired_files_and_leaves_retained_index_files_live(
        make_bucket: BucketMaker, make_s3_backend: S3BackendMaker) -> None:
    lagging, current = _backends(make_bucket(object_lock=True), make_s3_backend)
    old = write_tenant(new_repository(lagging), users=300)
    expired_indexes = _index_names(current)
    repo = reopen(current)
    kept = write_tenant(repo, users=300, changed=frozenset(range(0, 300, 2)))
    retained_indexes = _index_names(current) - expired_indexes

    forgotten = forget(repo, RetentionPolicy(keep_last=1))
    assert forgotten.removed == [old.id] and forgotten.retained == {}
    result = prune(repo)

    assert result.deleted_packs > 0 and result.retained == []
    assert result.plan.locked_indexes == retained_indexes
    remaining = _index_names(current)
    assert retained_indexes <= remaining, "retained index files are neither deleted ..."
    assert not expired_indexes & remaining, "... nor do expired ones survive"
    report = check(reopen(current), read_data=True)
    assert report.ok, report.problems
    assert dict(reopen(current).objects(kept, "users")) == {
        f"user-{n:05d}": user(n, int(n % 2 == 0)) for n in range(300)}


def test_packs_of_a_retained_index_are_kept_and_reported(
        make_bucket: BucketMaker, make_s3_backend: S3BackendMaker, s3_client: Any) -> None:
    bucket = make_bucket(object_lock=True)
    _, current = _backends(bucket, make_s3_backend)
    repo = new_repository(current)
    doomed = write_tenant(repo, users=300)
    kept = write_tenant(repo, users=300, changed=frozenset(range(300)))

    # forget cannot delete a snapshot file still retained ...
    refused = forget(repo, RetentionPolicy(keep_last=1))
    assert refused.removed == [] and list(refused.retained) == [doomed.id]
    # ... but an administrator allowed to bypass governance retention can.
    key = f"repo/{SNAPSHOT_PREFIX}{doomed.id}"
    version = s3_client.head_object(Bucket=bucket, Key=key)["VersionId"]
    s3_client.delete_object(Bucket=bucket, Key=key, VersionId=version,
                            BypassGovernanceRetention=True)
    before = _index_names(current)

    result = prune(reopen(current))
    assert result.retained and result.deleted_packs == 0
    assert result.plan.unused_blobs > 0 and not result.plan.delete and not result.plan.repack
    assert _index_names(current) == before, "nothing to supersede: no index file written"
    again = reopen(current)
    report = check(again, read_data=True)
    assert report.ok and report.warnings == [], (report.problems, report.warnings)
    assert again.get(kept, "users", "user-00007") == user(7, 1)
