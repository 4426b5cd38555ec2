"""Keys: passphrase and key file providers, several wrapped copies, tampered config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from entra_backup.store.backends.memory import MemoryBackend
from entra_backup.store.crypto import MASTER_KEY_SIZE
from entra_backup.store.errors import (
    CorruptFile,
    RepositoryExists,
    RepositoryNotFound,
    UnsupportedFormat,
    WrongKey,
    WrongPassphrase,
)
from entra_backup.store.files import CONFIG_NAME
from entra_backup.store.keys import passphrase as passphrase_module
from entra_backup.store.keys.base import KeyProviderError
from entra_backup.store.keys.base import WrongKey as ProviderWrongKey
from entra_backup.store.keys.keyfile import KeyFileProvider
from entra_backup.store.keys.master import stored_keys
from entra_backup.store.keys.passphrase import KdfParams, PassphraseKeyProvider
from entra_backup.store.repository import Repository
from tests.store._support import new_repository, passphrase_provider, write_tenant


def test_a_wrong_passphrase_is_refused_clearly(backend: MemoryBackend) -> None:
    new_repository(backend)
    with pytest.raises(WrongPassphrase, match="wrong passphrase"):
        Repository.open(backend, passphrase_provider("not the passphrase"))


def test_a_wrapped_key_is_bound_to_its_repository() -> None:
    provider = passphrase_provider()
    master = bytes(range(MASTER_KEY_SIZE))
    wrapped = provider.wrap(master, context=b"repository-a")
    assert provider.unwrap(wrapped, context=b"repository-a") == master
    with pytest.raises(ProviderWrongKey):
        provider.unwrap(wrapped, context=b"repository-b")


def test_a_key_file_opens_the_repository_and_another_does_not(tmp_path: Path) -> None:
    backend = MemoryBackend()
    provider = KeyFileProvider.generate(tmp_path / "repo.key")
    assert (tmp_path / "repo.key").stat().st_mode & 0o777 == 0o600
    Repository.init(backend, provider)
    assert Repository.open(backend, KeyFileProvider.from_file(tmp_path / "repo.key")).id
    with pytest.raises(WrongKey):
        Repository.open(backend, KeyFileProvider.generate(tmp_path / "other.key"))
    with pytest.raises(KeyProviderError, match="exists already"):
        KeyFileProvider.generate(tmp_path / "repo.key")


def test_several_keys_open_the_same_data(backend: MemoryBackend, tmp_path: Path) -> None:
    repo = new_repository(backend)
    snapshot = write_tenant(repo, users=5, groups=1)
    key_file = KeyFileProvider.generate(tmp_path / "second.key")
    repo.add_key(key_file)
    repo.add_key(passphrase_provider("second passphrase"))
    assert sorted(k.kind for k in stored_keys(backend)) == ["keyfile", "passphrase", "passphrase"]
    for provider in (key_file, passphrase_provider("second passphrase"), passphrase_provider()):
        opened = Repository.open(backend, provider)
        assert opened.get(snapshot, "users", "user-00001")["id"] == "user-00001"
    with pytest.raises(WrongKey, match="aws-kms"):
        Repository.open(backend, _KindOnly("aws-kms"))


def test_a_tampered_config_is_refused(backend: MemoryBackend) -> None:
    new_repository(backend)
    config = json.loads(backend.read(CONFIG_NAME))
    config["pack_size"] = 1
    backend.delete(CONFIG_NAME)
    backend.create(CONFIG_NAME, json.dumps(config).encode())
    with pytest.raises(CorruptFile, match="altered"):
        Repository.open(backend, passphrase_provider())


def test_a_newer_format_is_refused(backend: MemoryBackend) -> None:
    new_repository(backend)
    config = json.loads(backend.read(CONFIG_NAME))
    config["version"] = 99
    backend.delete(CONFIG_NAME)
    backend.create(CONFIG_NAME, json.dumps(config).encode())
    with pytest.raises(UnsupportedFormat, match="version 99"):
        Repository.open(backend, passphrase_provider())


def test_init_refuses_an_existing_repository_and_open_a_missing_one() -> None:
    backend = MemoryBackend()
    with pytest.raises(RepositoryNotFound):
        Repository.open(backend, passphrase_provider())
    new_repository(backend)
    with pytest.raises(RepositoryExists):
        new_repository(backend)


def test_weak_kdf_parameters_are_refused_below_the_minimum_outside_tests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(passphrase_module, "_weak_allowed", False)
    with pytest.raises(KeyProviderError, match="below the minimum"):
        PassphraseKeyProvider("secret", params=KdfParams(time_cost=1, memory_kib=8, parallelism=1))
    with pytest.raises(KeyProviderError, match="empty"):
        PassphraseKeyProvider("")


class _KindOnly(PassphraseKeyProvider):
    """A provider of another kind (nothing of that kind is stored)."""

    def __init__(self, kind: str) -> None:
        super().__init__("unused", params=passphrase_provider().params)
        self.kind = kind
