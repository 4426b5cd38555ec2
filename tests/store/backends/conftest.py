"""Fixtures: every backend the conformance suite covers (the S3 server is in ../conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from entra_backup.store.backends.base import Backend
from entra_backup.store.backends.local import LocalBackend
from entra_backup.store.backends.memory import MemoryBackend
from tests.store.conftest import BucketMaker, S3BackendMaker, s3_settings

__all__ = ["BucketMaker", "S3BackendMaker", "s3_settings"]


@pytest.fixture(params=["local", "memory", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """Each backend in turn, empty."""
    made: Backend
    if request.param == "local":
        made = LocalBackend(tmp_path / "repo")
    elif request.param == "memory":
        made = MemoryBackend()
    else:
        bucket = request.getfixturevalue("make_bucket")()
        made = request.getfixturevalue("make_s3_backend")(bucket, prefix="repo/one")
    return made
