"""Fixtures for repository tests: fast passphrase keys and small in-memory repositories."""

from __future__ import annotations

import pytest

from entra_backup.store.backends.memory import MemoryBackend
from entra_backup.store.keys.passphrase import allow_weak_kdf_for_tests
from entra_backup.store.repository import Repository
from tests.store._support import new_repository

allow_weak_kdf_for_tests()


@pytest.fixture
def backend() -> MemoryBackend:
    return MemoryBackend()


@pytest.fixture
def repo(backend: MemoryBackend) -> Repository:
    """A fresh repository with small packs, so a few documents span several packs."""
    return new_repository(backend)
