"""What only the S3 backend has: prefixes, addressing, fallbacks and error translation."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from entra_backup.store.backends.base import AlreadyExists, BackendError, NotFound, TransientError
from entra_backup.store.backends.s3 import S3Backend, S3Settings, make_client
from tests.store.backends.conftest import BucketMaker, S3BackendMaker


def test_prefixes_keep_repositories_apart(
    make_bucket: BucketMaker, make_s3_backend: S3BackendMaker, s3_client: Any
) -> None:
    bucket = make_bucket()
    first = make_s3_backend(bucket, prefix="tenants/a/")
    second = make_s3_backend(bucket, prefix="tenants/ab")
    first.create("config", b"a")
    second.create("config", b"ab")
    assert [info.name for info in first.list()] == ["config"]
    assert first.read("config") == b"a"
    keys = sorted(item["Key"] for item in s3_client.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == ["tenants/a/config", "tenants/ab/config"]


def test_without_conditional_writes_create_still_refuses_existing_names(
    make_bucket: BucketMaker, make_s3_backend: S3BackendMaker
) -> None:
    backend = make_s3_backend(make_bucket(), conditional_create=False)
    backend.create("snapshots/s1", b"first")
    with pytest.raises(AlreadyExists):
        backend.create("snapshots/s1", b"second")
    assert backend.read("snapshots/s1") == b"first"


def test_a_missing_bucket_is_an_error_not_a_missing_file(make_s3_backend: S3BackendMaker) -> None:
    backend = make_s3_backend("no-such-bucket-here")
    with pytest.raises(BackendError, match="NoSuchBucket") as caught:
        backend.read("config")
    assert not isinstance(caught.value, NotFound)


def test_an_unreachable_endpoint_is_transient() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings = S3Settings(
        bucket="b", endpoint_url=f"http://127.0.0.1:{closed_port}", region="eu-north-1",
        path_style=True, access_key_id="x", secret_access_key="y", connect_timeout=1,
    )
    backend = S3Backend(settings)
    with pytest.raises(TransientError, match="cannot read config"):
        backend.read("config")
    backend.close()


def test_client_uses_path_style_and_makes_one_attempt() -> None:
    settings = S3Settings(bucket="b", endpoint_url="http://127.0.0.1:9", path_style=True,
                          region="eu-north-1")
    client = make_client(settings)
    assert client.meta.config.s3["addressing_style"] == "path"
    assert client.meta.config.retries["total_max_attempts"] == 1
    assert client.meta.endpoint_url == "http://127.0.0.1:9"
    client.close()
