"""Copying snapshots into a repository with another master key: every document, the
tenant, time, engine state and how each type ended survive; the copy verifies with
``check --read-data``; the source key does not open it; a second run copies nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from entra_backup.services.copy import copy_repository
from entra_backup.store.backends.memory import MemoryBackend
from entra_backup.store.check import check
from entra_backup.store.errors import WrongPassphrase
from entra_backup.store.repository import Repository
from entra_backup.store.snapshot import Snapshot, TypeStatus
from tests.store._support import new_repository, passphrase_provider, user, write_tenant

OTHER_PASSPHRASE = "the destination's own passphrase"


def _source() -> Repository:
    repo = new_repository(MemoryBackend())
    first = write_tenant(repo, users=120, groups=10)
    write_tenant(repo, users=130, groups=10, changed=frozenset({3, 7}))
    write_tenant(repo, users=20, groups=2, tenant="fabrikam")
    at = datetime.now(UTC) + timedelta(hours=1)  # the newest, its parent copied before it
    with repo.writer("contoso", clock=lambda: at) as writer:
        writer.state = {"delta": {"users": "https://graph.example/delta?token=abc"}}
        writer.add("users", "user-99999", user(99999))
        writer.fail("groups", "throttled", carry_forward=first)
        writer.skip("devices", "not licensed")
        writer.fail("applications", "permission missing")
        writer.commit()
    return repo


def _documents(repo: Repository, snapshot: Snapshot) -> dict[str, list[object]]:
    return {name: list(repo.objects(snapshot, name)) for name, entry in snapshot.types.items()
            if entry.manifest is not None}


def test_a_copy_keeps_every_snapshot_under_the_new_key() -> None:
    source = _source()
    destination = Repository.init(MemoryBackend(), passphrase_provider(OTHER_PASSPHRASE))
    copied = copy_repository(source, destination)

    originals = source.snapshots()
    assert [item.source.id for item in copied] == [item.id for item in originals]
    copies = destination.snapshots()
    assert [(s.tenant, s.time) for s in copies] == [(s.tenant, s.time) for s in originals]
    by_source = {item.source.id: item.copy for item in copied}
    for original in originals:
        copy = by_source[original.id]
        assert copy.id != original.id and copy.state == original.state
        assert _documents(destination, copy) == _documents(source, original)
        assert {name: (e.status, e.message, e.count) for name, e in copy.types.items()} == \
            {name: (e.status, e.message, e.count) for name, e in original.types.items()}
        assert copy.parent == (None if original.parent is None
                               else by_source[original.parent].id)
    last = copies[-1]
    assert last.types["groups"].status is TypeStatus.FAILED
    assert last.types["groups"].reused_from == by_source[originals[0].id].id
    assert last.types["devices"].status is TypeStatus.SKIPPED
    assert last.types["applications"].manifest is None

    assert check(destination, read_data=True).ok
    with pytest.raises(WrongPassphrase):
        Repository.open(destination.backend, passphrase_provider())
    assert destination.config.repo_id != source.config.repo_id


def test_a_second_copy_resumes_and_copies_nothing_twice() -> None:
    source = _source()
    destination = Repository.init(MemoryBackend(), passphrase_provider(OTHER_PASSPHRASE))
    first = copy_repository(source, destination)
    again = copy_repository(source, destination)
    assert [item.existed for item in again] == [True] * len(first)
    assert [item.copy.id for item in again] == [item.copy.id for item in first]
    assert len(destination.snapshot_ids()) == len(first)
