"""Fixtures for repository tests: fast passphrase keys and small in-memory repositories."""

from __future__ import annotations

import pytest

from entra_backup.store.backends.memory import MemoryBackend
from entra_backup.store.keys.passphrase import (
    WEAK_FOR_TESTS,
    PassphraseKeyProvider,
    allow_weak_kdf_for_tests,
)
from entra_backup.store.repository import Repository

allow_weak_kdf_for_tests()

PASSPHRASE = "correct horse battery staple"


def passphrase_provider(passphrase: str = PASSPHRASE) -> PassphraseKeyProvider:
    """A passphrase provider with test-only cheap KDF parameters."""
    return PassphraseKeyProvider(passphrase, params=WEAK_FOR_TESTS)


@pytest.fixture
def backend() -> MemoryBackend:
    return MemoryBackend()


@pytest.fixture
def repo(backend: MemoryBackend) -> Repository:
    """A fresh repository with small packs, so a few documents span several packs."""
    repository = Repository.init(backend, passphrase_provider(), pack_size=16 * 1024)
    repository.index_every = 2
    return repository
