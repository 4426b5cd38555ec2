"""Fixtures for repository tests: fast passphrase keys, an S3 protocol server, and small
repositories on each backend (memory, local disk, S3)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from entra_backup.store.backends.base import Backend
from entra_backup.store.backends.local import LocalBackend
from entra_backup.store.backends.memory import MemoryBackend
from entra_backup.store.backends.s3 import S3Backend, S3Settings, make_client
from entra_backup.store.keys.passphrase import allow_weak_kdf_for_tests
from entra_backup.store.repository import Repository
from tests.store._support import new_repository
from tests.support.moto_server import MotoServer, running_moto_server

allow_weak_kdf_for_tests()

BucketMaker = Callable[..., str]
S3BackendMaker = Callable[..., S3Backend]


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """An S3/KMS protocol server on 127.0.0.1, in a subprocess, for the whole session."""
    with running_moto_server() as server:
        yield server


@pytest.fixture(scope="session")
def s3_client(moto_server: MotoServer) -> Iterator[Any]:
    """A raw boto3 S3 client, to prepare buckets and look behind the backend's back."""
    client: Any = moto_server.client("s3")
    yield client
    client.close()


@pytest.fixture(scope="session")
def backend_s3_client(moto_server: MotoServer) -> Iterator[Any]:
    """The client S3Backend builds for the test server, shared because building one is slow."""
    client = make_client(s3_settings(moto_server, "any-bucket"))
    yield client
    client.close()


@pytest.fixture
def make_s3_backend(moto_server: MotoServer, backend_s3_client: Any) -> S3BackendMaker:
    """Build an S3Backend on the test server (sharing one client) for ``bucket``."""

    def make(bucket: str, clock: Callable[[], float] = time.time, **options: Any) -> S3Backend:
        settings = s3_settings(moto_server, bucket, **options)
        return S3Backend(settings, client=backend_s3_client, clock=clock)

    return make


@pytest.fixture(scope="session")
def make_bucket(s3_client: Any, moto_server: MotoServer) -> BucketMaker:
    """Create a fresh bucket (optionally with Object Lock) and return its name."""

    def make(*, object_lock: bool = False) -> str:
        name = f"test-{uuid.uuid4().hex[:20]}"
        s3_client.create_bucket(
            Bucket=name,
            CreateBucketConfiguration={"LocationConstraint": moto_server.region},
            ObjectLockEnabledForBucket=object_lock,
        )
        return name

    return make


def s3_settings(server: MotoServer, bucket: str, **options: Any) -> S3Settings:
    """Settings reaching ``bucket`` on the test server with path-style addressing."""
    return S3Settings(
        bucket=bucket,
        endpoint_url=server.endpoint_url,
        region=server.region,
        path_style=True,
        access_key_id=server.access_key_id,
        secret_access_key=server.secret_access_key,
        **options,
    )



@pytest.fixture(params=["memory", "local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """The repository tests run on each backend: memory, local disk and S3 (moto server)."""
    if request.param == "memory":
        return MemoryBackend()
    if request.param == "local":
        return LocalBackend(tmp_path / "repo")
    bucket = request.getfixturevalue("make_bucket")()
    made: Backend = request.getfixturevalue("make_s3_backend")(bucket, prefix="repo")
    return made


@pytest.fixture
def repo(backend: Backend) -> Repository:
    """A fresh repository with small packs, so a few documents span several packs."""
    return new_repository(backend)
