"""A writer reloads the index only when another process changed it."""

from __future__ import annotations

from pathlib import Path

import pytest

from entra_backup.store import repository as repository_module
from entra_backup.store.backends.local import LocalBackend
from tests.store._support import new_repository, reopen, user


def _count_loads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    original = repository_module.load_index

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(repository_module, "load_index", counting)
    return calls


def _backup(repo: repository_module.Repository, users: range) -> None:
    with repo.writer(tenant="contoso") as writer:
        for number in users:
            writer.add("users", f"user-{number:05d}", user(number))
        writer.commit()


def test_own_writes_do_not_reload_the_index(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    repo = new_repository(LocalBackend(tmp_path))
    _backup(repo, range(50))
    loads = _count_loads(monkeypatch)
    _backup(repo, range(60))
    _backup(repo, range(70))
    assert loads == []
    assert [s.types["users"].count for s in repo.snapshots("contoso")] == [50, 60, 70]


def test_another_writer_s_index_files_are_picked_up(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    backend = LocalBackend(tmp_path)
    first = new_repository(backend)
    _backup(first, range(40))
    second = reopen(backend)
    _backup(second, range(80))
    loads = _count_loads(monkeypatch)
    with first.writer(tenant="contoso") as writer:
        assert loads == [1]
        for number in range(80):
            writer.add("users", f"user-{number:05d}", user(number))
        writer.commit()
    # Every document was in the other process's packs already: nothing new was stored.
    assert writer.stats.new_blobs < 5
    assert first.get(first.load_snapshot("latest"), "users", "user-00079") == user(79)
