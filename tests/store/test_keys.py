"""Keys: passphrase and key file providers, several wrapped copies (added, found, removed,
withdrawn from an Object-Lock bucket), tampered config."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from entra_backup.store.backends.base import ObjectLocked
from entra_backup.store.backends.memory import MemoryBackend
from entra_backup.store.backends.s3 import ObjectLockPolicy, S3Backend
from entra_backup.store.crypto import MASTER_KEY_SIZE
from entra_backup.store.errors import (
    CorruptFile,
    KeyNotFound,
    KeyStillNeeded,
    RepositoryExists,
    RepositoryNotFound,
    UnsupportedFormat,
    WrongKey,
    WrongPassphrase,
)
from entra_backup.store.files import CONFIG_NAME
from entra_backup.store.keys import master
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


def test_removing_a_key_refuses_the_one_in_use_and_the_last(backend: MemoryBackend) -> None:
    repo = new_repository(backend)
    with pytest.raises(KeyStillNeeded, match="in use"):
        master.remove_key(backend, repo.key_name, in_use=repo.key_name)
    second = repo.add_key(passphrase_provider("second passphrase"))
    master.remove_key(backend, repo.key_name, in_use=second)
    with pytest.raises(KeyStillNeeded, match="last key"):
        master.remove_key(backend, second, in_use="keys/another")
    with pytest.raises(KeyNotFound):
        master.remove_key(backend, repo.key_name, in_use=second)
    assert [key.name for key in stored_keys(backend)] == [second]
    with pytest.raises(WrongPassphrase):
        Repository.open(backend, passphrase_provider())


def test_a_key_is_found_by_a_unique_prefix_of_its_id(backend: MemoryBackend) -> None:
    repo = new_repository(backend)
    second = repo.add_key(passphrase_provider("second passphrase"))
    ids = [name.removeprefix(master.KEYS_PREFIX) for name in (repo.key_name, second)]
    assert master.find_key(backend, ids[1][:8]).name == second
    assert master.find_key(backend, second).name == second
    common = next(at for at, (a, b) in enumerate(zip(*ids, strict=True)) if a != b)
    for reference in ("", ids[0][:common], "zz"):
        with pytest.raises(KeyNotFound, match=ids[0][:8]):
            master.find_key(backend, reference)


def test_the_pin_of_the_files_written_matches_the_stored_key_set(backend: MemoryBackend,
                                                                 tmp_path: Path) -> None:
    repo = new_repository(backend)
    before = master.key_files(backend)
    name, data = repo.store_key(KeyFileProvider.generate(tmp_path / "k.key"))
    assert backend.read(name) == data
    assert master.fingerprint_of({**before, name: data}) == master.key_set_fingerprint(backend)
    assert master.fingerprint_of(before) != master.key_set_fingerprint(backend)


def test_a_key_withdrawn_from_an_object_lock_bucket_keeps_its_old_version(
    make_bucket: Callable[..., str], make_s3_backend: Callable[..., S3Backend], s3_client: Any,
) -> None:
    bucket = make_bucket(object_lock=True)
    backend = make_s3_backend(bucket, prefix="repo",
                              object_lock=ObjectLockPolicy(retention=timedelta(days=3)))
    repo = new_repository(backend)
    second = repo.add_key(passphrase_provider("second passphrase"))
    with pytest.raises(ObjectLocked):
        backend.delete(second)  # a retained file cannot be deleted for good
    master.remove_key(backend, second, in_use=repo.key_name, delete=backend.withdraw)
    assert [key.name for key in stored_keys(backend)] == [repo.key_name]
    kept = s3_client.list_object_versions(Bucket=bucket, Prefix=f"repo/{second}")["Versions"]
    assert len(kept) == 1
    assert "Object Lock for 3 days" in (backend.old_versions_kept() or "")


def test_the_backend_says_whether_the_bucket_keeps_old_versions(
    make_bucket: Callable[..., str], make_s3_backend: Callable[..., S3Backend], s3_client: Any,
) -> None:
    plain = make_bucket()
    assert make_s3_backend(plain).old_versions_kept() is None
    s3_client.put_bucket_versioning(Bucket=plain, VersioningConfiguration={"Status": "Enabled"})
    assert "versioned" in (make_s3_backend(plain).old_versions_kept() or "")
    s3_client.put_bucket_versioning(Bucket=plain,
                                    VersioningConfiguration={"Status": "Suspended"})
    assert "suspended" in (make_s3_backend(plain).old_versions_kept() or "")
    assert MemoryBackend().old_versions_kept() is None
