"""What only the local backend has: temporary files, durability and containment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from entra_backup.store.backends.base import AlreadyExists, InvalidName
from entra_backup.store.backends.local import LocalBackend


def test_files_land_under_the_root_as_named(tmp_path: Path) -> None:
    LocalBackend(tmp_path).create("data/3f/3f9a", b"pack")
    assert (tmp_path / "data" / "3f" / "3f9a").read_bytes() == b"pack"


def test_leftovers_of_an_interrupted_write_are_invisible(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path)
    backend.create("data/3f/3f01", b"done")
    (tmp_path / "data" / "3f" / ".tmp-0123abcd").write_bytes(b"half a pa")
    assert [info.name for info in backend.list()] == ["data/3f/3f01"]


def test_names_of_temporary_files_are_reserved(tmp_path: Path) -> None:
    with pytest.raises(InvalidName, match="reserved"):
        LocalBackend(tmp_path).create("data/.tmp-x", b"x")


def test_a_refused_create_leaves_no_temporary_file(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path)
    backend.create("index/i1", b"one")
    with pytest.raises(AlreadyExists):
        backend.create("index/i1", b"two")
    assert sorted(path.name for path in (tmp_path / "index").iterdir()) == ["i1"]


def test_create_syncs_the_file_and_its_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    LocalBackend(tmp_path).create("snapshots/s1", b"snap")
    directory = str(tmp_path / "snapshots")
    assert any(Path(path).name.startswith(".tmp-") for path in synced)
    assert synced[-1] == directory


