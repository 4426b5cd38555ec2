"""The backend contract (see ``entra_backup.store.backends.base``), run on every backend."""

from __future__ import annotations

import os
import threading

import pytest

from entra_backup.store.backends.base import (
    AlreadyExists,
    Backend,
    FileInfo,
    InvalidName,
    NotFound,
)

BAD_NAMES = ["", "/etc/passwd", "../outside", "data/../../outside", "a//b", "a/./b", "dir/"]


def test_created_file_reads_back_exactly(backend: Backend) -> None:
    data = os.urandom(100_000) + b"\x00\xff"
    backend.create("data/3f/3f9a", data)
    assert backend.read("data/3f/3f9a") == data
    assert backend.exists("data/3f/3f9a")


def test_empty_file_is_a_file(backend: Backend) -> None:
    backend.create("keys/empty", b"")
    assert backend.read("keys/empty") == b""
    assert list(backend.list("keys/")) == [FileInfo("keys/empty", 0)]


def test_create_never_overwrites(backend: Backend) -> None:
    backend.create("snapshots/a", b"first")
    with pytest.raises(AlreadyExists):
        backend.create("snapshots/a", b"second")
    assert backend.read("snapshots/a") == b"first"


def test_missing_file_is_not_found_everywhere(backend: Backend) -> None:
    with pytest.raises(NotFound):
        backend.read("data/none")
    with pytest.raises(NotFound):
        backend.read_range("data/none", 0, 10)
    with pytest.raises(NotFound):
        backend.read_range("data/none", 0, 0)
    with pytest.raises(NotFound):
        backend.delete("data/none")
    assert not backend.exists("data/none")


def test_read_range_returns_the_slice_and_stops_at_the_end(backend: Backend) -> None:
    backend.create("data/pack", b"0123456789")
    assert backend.read_range("data/pack", 2, 3) == b"234"
    assert backend.read_range("data/pack", 7, 100) == b"789"
    assert backend.read_range("data/pack", 10, 5) == b""
    assert backend.read_range("data/pack", 50, 5) == b""
    assert backend.read_range("data/pack", 3, 0) == b""


def test_negative_range_is_refused(backend: Backend) -> None:
    backend.create("data/pack", b"0123456789")
    with pytest.raises(ValueError, match=">= 0"):
        backend.read_range("data/pack", -1, 3)


def test_delete_removes_and_frees_the_name(backend: Backend) -> None:
    backend.create("index/1", b"old")
    backend.delete("index/1")
    assert not backend.exists("index/1")
    assert list(backend.list("index/")) == []
    with pytest.raises(NotFound):
        backend.read("index/1")
    backend.create("index/1", b"new")
    assert backend.read("index/1") == b"new"


def test_withdraw_removes_the_file_from_the_namespace(backend: Backend) -> None:
    backend.create("keys/k1", b"wrapped")
    backend.create("keys/k2", b"other")
    backend.withdraw("keys/k1")
    assert not backend.exists("keys/k1")
    assert [info.name for info in backend.list("keys/")] == ["keys/k2"]
    with pytest.raises(NotFound):
        backend.withdraw("keys/k1")
    assert backend.old_versions_kept() is None  # a plain bucket, a folder, memory


def test_list_filters_by_prefix_and_reports_sizes(backend: Backend) -> None:
    backend.create("data/3f/3f01", b"a" * 3)
    backend.create("data/3f/3f02", b"b" * 5)
    backend.create("data/40/4001", b"c")
    backend.create("snapshots/s1", b"snap")
    assert sorted(backend.list("data/3f/"), key=lambda info: info.name) == [
        FileInfo("data/3f/3f01", 3), FileInfo("data/3f/3f02", 5)
    ]
    assert sorted(info.name for info in backend.list("data/")) == [
        "data/3f/3f01", "data/3f/3f02", "data/40/4001"
    ]
    assert [info.name for info in backend.list("data/4")] == ["data/40/4001"]
    assert len(list(backend.list())) == 4
    assert list(backend.list("nothing/")) == []


def test_names_with_spaces_and_unicode_round_trip(backend: Backend) -> None:
    backend.create("notes/ä b+c", b"x")
    assert backend.read("notes/ä b+c") == b"x"
    assert [info.name for info in backend.list("notes/")] == ["notes/ä b+c"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_unsafe_names_are_refused(backend: Backend, name: str) -> None:
    with pytest.raises(InvalidName):
        backend.create(name, b"x")
    with pytest.raises(InvalidName):
        backend.read(name)
    with pytest.raises(InvalidName):
        backend.delete(name)
    with pytest.raises(InvalidName):
        backend.exists(name)
    assert list(backend.list()) == []


def test_racing_creates_of_one_name_have_one_winner(backend: Backend) -> None:
    if type(backend).__name__ == "S3Backend":
        pytest.skip("moto checks If-None-Match and stores in two steps; AWS does it atomically")
    winners: list[bytes] = []
    barrier = threading.Barrier(8)

    def contend(data: bytes) -> None:
        barrier.wait()
        try:
            backend.create("locks/race", data)
            winners.append(data)
        except AlreadyExists:
            pass

    threads = [threading.Thread(target=contend, args=(bytes([i]) * 1000,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1
    assert backend.read("locks/race") == winners[0]
