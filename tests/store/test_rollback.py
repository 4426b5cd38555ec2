"""Proofs of concept of an attacker who can write the repository but holds no key.

Deleting the newest snapshot file, or making it unreadable, used to turn ``latest`` into an
older snapshot without a word; a key file with absurd argon2 parameters made opening the
repository try to allocate whatever it asked for; a damaged index file was skipped in
silence. Each test below runs the attack against a real local repository.
"""

from __future__ import annotations

import base64
import json
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from entra_backup.store.backends.local import LocalBackend
from entra_backup.store.crypto import RepositoryKeys
from entra_backup.store.files import SNAPSHOT_PREFIX, content_name
from entra_backup.store.keys import master
from entra_backup.store.keys.aws_kms import AwsKmsKeyProvider
from entra_backup.store.keys.passphrase import MAXIMUM, KdfTooCostly, PassphraseKeyProvider
from entra_backup.store.repository import Repository
from entra_backup.store.retention import ForgetResult, delete_snapshots
from entra_backup.store.seen import MissingSnapshots, SeenSnapshots
from tests.store._support import (
    PASSPHRASE,
    new_repository,
    passphrase_provider,
    reopen,
    write_tenant,
)


def _watched(repo: Repository, record: Path, *, accept: bool = False,
             warnings: list[str] | None = None) -> Repository:
    sink = warnings if warnings is not None else []
    repo.seen = SeenSnapshots(record, accept_missing=accept, warn=sink.append)
    repo.warn = sink.append
    return repo


@pytest.fixture
def backend(tmp_path: Path) -> LocalBackend:
    return LocalBackend(tmp_path / "repository")


@pytest.fixture
def record(tmp_path: Path) -> Path:
    return tmp_path / "home" / "seen" / "record.json"


def _two_snapshots(backend: LocalBackend, record: Path) -> tuple[str, str]:
    repo = _watched(new_repository(backend), record)
    older = write_tenant(repo, users=20, groups=3)
    newer = write_tenant(repo, users=20, groups=3, changed=frozenset({1}))
    return older.id, newer.id


def test_deleting_the_newest_snapshot_is_refused_naming_it(
    backend: LocalBackend, record: Path
) -> None:
    older, newer = _two_snapshots(backend, record)
    backend.delete(SNAPSHOT_PREFIX + newer)  # the attack: one DELETE in the bucket

    repo = _watched(reopen(backend), record)
    with pytest.raises(MissingSnapshots) as refused:
        repo.load_snapshot("latest", "contoso")
    assert newer[:8] in refused.value.message
    assert "contoso" in refused.value.message
    assert "--accept-missing-snapshots" in refused.value.message
    with pytest.raises(MissingSnapshots):
        repo.writer("contoso")  # a backup on top of the rolled-back state neither
    assert older != newer


def test_accepting_the_loss_drops_it_from_the_record_with_a_warning(
    backend: LocalBackend, record: Path
) -> None:
    older, newer = _two_snapshots(backend, record)
    backend.delete(SNAPSHOT_PREFIX + newer)
    warnings: list[str] = []

    accepted = _watched(reopen(backend), record, accept=True, warnings=warnings)
    assert [s.id for s in accepted.snapshots("contoso")] == [older]
    assert any(newer[:8] in line for line in warnings), warnings
    # Accepted once: the next listing without the override is clean.
    again = _watched(reopen(backend), record)
    assert again.load_snapshot("latest", "contoso").id == older


def test_a_remembered_snapshot_that_no_longer_authenticates_is_refused(
    backend: LocalBackend, record: Path
) -> None:
    _, newer = _two_snapshots(backend, record)
    path = backend.root / (SNAPSHOT_PREFIX + newer)
    path.chmod(stat.S_IWUSR | stat.S_IRUSR)
    path.write_bytes(b"EBSN" + bytes(80))

    with pytest.raises(MissingSnapshots, match="no longer authenticates"):
        _watched(reopen(backend), record).snapshots()


def test_an_unknown_unreadable_snapshot_is_reported_not_skipped_silently(
    backend: LocalBackend, record: Path
) -> None:
    older, _ = _two_snapshots(backend, record)
    junk = b"EBSN\x01" + bytes(80)
    backend.create(SNAPSHOT_PREFIX + content_name(junk), junk)
    warnings: list[str] = []
    repo = _watched(reopen(backend), record, warnings=warnings)
    assert older in [s.id for s in repo.snapshots()]
    assert any(content_name(junk)[:8] in line and "is left out" in line
               for line in warnings), warnings


def test_forget_by_this_home_is_not_a_rollback(backend: LocalBackend, record: Path) -> None:
    older, newer = _two_snapshots(backend, record)
    repo = _watched(reopen(backend), record)
    delete_snapshots(repo, [newer], ForgetResult())

    later = _watched(reopen(backend), record)
    assert [s.id for s in later.snapshots()] == [older]
    # A listing that started before the forget cannot bring the id back into the record.
    assert newer not in json.loads(record.read_text())["snapshots"]


def test_the_record_is_private_and_names_tenant_and_time(
    backend: LocalBackend, record: Path
) -> None:
    older, newer = _two_snapshots(backend, record)
    stored = json.loads(record.read_text())["snapshots"]
    assert set(stored) == {older, newer}
    assert stored[newer]["tenant"] == "contoso"
    assert stat.S_IMODE(record.stat().st_mode) == 0o600


def test_a_damaged_index_file_is_warned_about(backend: LocalBackend, record: Path) -> None:
    _two_snapshots(backend, record)
    name = sorted(info.name for info in backend.list("index/"))[0]
    path = backend.root / name
    path.chmod(stat.S_IWUSR | stat.S_IRUSR)
    path.write_bytes(path.read_bytes()[:-1] + b"\0")

    warnings: list[str] = []
    Repository.open(backend, passphrase_provider(), warn=warnings.append)
    assert any(name in line and "not used" in line for line in warnings), warnings


def _hostile_key(backend: LocalBackend, **params: int) -> str:
    """A key file whose argon2 parameters ask for absurd costs, sorted before the real one."""
    blob = {"version": 1, "kdf": "argon2id", "time_cost": 3, "memory_kib": 64 * 1024,
            "parallelism": 2, "salt": base64.b64encode(bytes(16)).decode(),
            "wrapped": base64.b64encode(bytes(60)).decode()} | params
    document = {"version": 1, "kind": "passphrase", "created": "2026-01-01T00:00:00+00:00",
                "wrapped": base64.b64encode(json.dumps(blob).encode()).decode()}
    name = master.KEYS_PREFIX + "0" * 32
    backend.create(name, json.dumps(document).encode())
    return name


@pytest.mark.parametrize("params", [
    {"memory_kib": 2 ** 40},  # a terabyte
    {"time_cost": 10 ** 9},
    {"parallelism": 2 ** 20},
    {"memory_kib": 0},
])
def test_a_key_file_with_huge_kdf_parameters_is_refused(
    backend: LocalBackend, params: dict[str, int]
) -> None:
    new_repository(backend)
    name = _hostile_key(backend, **params)
    with pytest.raises(KdfTooCostly) as refused:
        Repository.open(backend, passphrase_provider())
    assert name in str(refused.value)
    assert str(MAXIMUM.memory_kib) in str(refused.value)


def test_parameters_at_the_maximum_are_accepted_for_wrapping() -> None:
    PassphraseKeyProvider(PASSPHRASE, params=MAXIMUM)  # constructing costs nothing
    with pytest.raises(KdfTooCostly):
        PassphraseKeyProvider(PASSPHRASE, params=type(MAXIMUM)(65, 1024 * 1024, 1))


def test_key_set_fingerprint_changes_with_an_added_key_only(backend: LocalBackend) -> None:
    repo = new_repository(backend)
    before = master.key_set_fingerprint(backend)
    assert master.key_set_fingerprint(backend) == before
    repo.add_key(passphrase_provider("another passphrase entirely"))
    assert master.key_set_fingerprint(backend) != before


def test_a_key_slot_holding_another_master_key_is_skipped_and_named(
    backend: LocalBackend,
) -> None:
    """A slot an attacker wrapped for our provider (with KMS, ``kms:Encrypt`` is enough)
    around a master key of their own, named to be tried first: it used to be taken, and
    the config MAC then refused the whole repository."""
    repo = new_repository(backend)
    written = write_tenant(repo, users=5, groups=1)
    wrapped = passphrase_provider().wrap(master.new_master_key(), context=repo.config.repo_id)
    document = {"version": 1, "kind": "passphrase", "created": "2026-01-01T00:00:00+00:00",
                "wrapped": base64.b64encode(wrapped).decode()}
    name = master.KEYS_PREFIX + "0" * 32
    backend.create(name, json.dumps(document).encode())

    warnings: list[str] = []
    opened = Repository.open(backend, passphrase_provider(), warn=warnings.append)
    assert opened.key_name != name
    assert [s.id for s in opened.snapshots()] == [written.id]
    assert any(name in line and "another master key" in line for line in warnings), warnings


@pytest.mark.parametrize("object_lock", [False, True])
def test_deleting_the_newest_snapshot_in_an_s3_bucket_is_refused(
    make_bucket: Any, make_s3_backend: Any, s3_client: Any, record: Path, object_lock: bool
) -> None:
    """The same attack through the S3 API; with Object Lock the DELETE only adds a delete
    marker (the version stays recoverable), but the snapshot still vanishes from listings."""
    bucket = make_bucket(object_lock=object_lock)
    backend = make_s3_backend(bucket, prefix="repo")
    repo = _watched(new_repository(backend), record)
    older = write_tenant(repo, users=5, groups=1)
    newer = write_tenant(repo, users=5, groups=1, changed=frozenset({2}))
    s3_client.delete_object(Bucket=bucket, Key=f"repo/{SNAPSHOT_PREFIX}{newer.id}")

    reopened = _watched(reopen(make_s3_backend(bucket, prefix="repo")), record)
    with pytest.raises(MissingSnapshots, match=newer.id[:8]):
        reopened.load_snapshot("latest", "contoso")
    assert older.id != newer.id


@pytest.fixture
def kms_provider(moto_server: Any) -> Iterator[AwsKmsKeyProvider]:
    client = moto_server.client("kms")
    key_id = str(client.create_key(Description="repository key")["KeyMetadata"]["KeyId"])
    yield AwsKmsKeyProvider(key_id, client=client)
    client.close()


def _kms_slot_of_their_own(backend: LocalBackend, provider: AwsKmsKeyProvider,
                           *, swap_config: bool) -> bytes:
    """What ``kms:Encrypt`` alone allows: wrap a master key of the attacker's choosing for
    this repository (``wrap`` is one Encrypt call), store it as a key file tried first and,
    optionally, MAC a copy of the config with it."""
    config, _ = Repository.read_config(backend)
    theirs = master.new_master_key()
    document = {"version": 1, "kind": provider.kind, "created": "2026-01-01T00:00:00+00:00",
                "wrapped": base64.b64encode(provider.wrap(theirs, context=config.repo_id))
                .decode()}
    backend.create(master.KEYS_PREFIX + "0" * 32, json.dumps(document).encode())
    if swap_config:
        path = backend.root / "config"
        path.chmod(0o600)
        path.write_bytes(config.encode(RepositoryKeys.derive(theirs, config.repo_id)))
    return theirs


def test_a_kms_slot_added_with_encrypt_only_is_skipped(
    backend: LocalBackend, kms_provider: AwsKmsKeyProvider
) -> None:
    repo = Repository.init(backend, kms_provider)
    written = write_tenant(repo, users=5, groups=1)
    _kms_slot_of_their_own(backend, kms_provider, swap_config=False)

    warnings: list[str] = []
    opened = Repository.open(backend, kms_provider, warn=warnings.append)
    assert [s.id for s in opened.snapshots()] == [written.id]
    assert any("another master key" in line for line in warnings), warnings


def test_a_kms_takeover_with_a_forged_snapshot_is_refused_by_the_seen_record(
    backend: LocalBackend, kms_provider: AwsKmsKeyProvider, record: Path
) -> None:
    genuine = write_tenant(_watched(Repository.init(backend, kms_provider), record),
                           users=5, groups=1)
    _kms_slot_of_their_own(backend, kms_provider, swap_config=True)
    forged_repo = Repository.open(backend, kms_provider)
    with forged_repo.writer("contoso", parent=None) as writer:
        writer.add("groups", "global-admins", {"id": "global-admins", "members": ["mallory"]})
        writer.commit()

    # Without the record the forged snapshot would be the tenant's only one, and 'latest'.
    assert [s.tenant for s in Repository.open(backend, kms_provider).snapshots()] == ["contoso"]
    with pytest.raises(MissingSnapshots, match=f"{genuine.id[:8]}.*no longer authenticates"):
        _watched(Repository.open(backend, kms_provider), record).load_snapshot("latest")
