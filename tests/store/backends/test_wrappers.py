"""The retrying and read-only wrappers, over the memory backend with injected faults."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from entra_backup.store.backends.base import (
    AlreadyExists,
    Backend,
    FileInfo,
    NotFound,
    ReadOnlyBackend,
    TransientError,
)
from entra_backup.store.backends.memory import MemoryBackend
from entra_backup.store.backends.wrappers import ReadOnlyView, RetryingBackend


class FlakyBackend(MemoryBackend):
    """Fails the next ``failures`` calls with TransientError, like a throttled server.

    With ``land_first`` the failing create stores the file anyway, like a timeout that
    hits after the server has written the object.
    """

    def __init__(self, failures: int, *, land_first: bool = False) -> None:
        super().__init__()
        self.failures = failures
        self.land_first = land_first
        self.calls = 0

    def _fault(self) -> None:
        self.calls += 1
        if self.failures > 0:
            self.failures -= 1
            raise TransientError("503 SlowDown")

    def create(self, name: str, data: bytes) -> None:
        if self.land_first and self.failures > 0:
            super().create(name, data)
        self._fault()
        super().create(name, data)

    def read(self, name: str) -> bytes:
        self._fault()
        return super().read(name)

    def list(self, prefix: str = "") -> Iterator[FileInfo]:
        self._fault()
        return super().list(prefix)


def retrying(inner: Backend, sleeps: list[float], attempts: int = 5) -> RetryingBackend:
    return RetryingBackend(
        inner, attempts=attempts, base_delay=1.0, max_delay=4.0,
        sleep=sleeps.append, rng=random.Random(7),
    )


def test_transient_failures_are_retried_until_success() -> None:
    inner = FlakyBackend(failures=3)
    sleeps: list[float] = []
    backend = retrying(inner, sleeps)
    backend.create("data/p", b"x")
    assert inner.read("data/p") == b"x"
    assert len(sleeps) == 3


def test_backoff_is_jittered_and_bounded() -> None:
    inner = FlakyBackend(failures=100)
    sleeps: list[float] = []
    with pytest.raises(TransientError):
        retrying(inner, sleeps, attempts=6).read("data/p")
    assert inner.calls == 6
    ceilings = [1.0, 2.0, 4.0, 4.0, 4.0]
    assert all(0 <= pause <= ceiling for pause, ceiling in zip(sleeps, ceilings, strict=True))
    assert len(set(sleeps)) == len(sleeps)


def test_permanent_errors_are_not_retried() -> None:
    inner = FlakyBackend(failures=0)
    sleeps: list[float] = []
    with pytest.raises(NotFound):
        retrying(inner, sleeps).read("data/none")
    assert inner.calls == 1
    assert sleeps == []


def test_a_create_that_landed_before_timing_out_counts_as_done() -> None:
    inner = FlakyBackend(failures=1, land_first=True)
    retrying(inner, []).create("snapshots/s1", b"snap")
    assert inner.read("snapshots/s1") == b"snap"


def test_a_create_that_finds_other_bytes_after_a_timeout_still_fails() -> None:
    inner = FlakyBackend(failures=1)
    inner.failures = 0
    inner.create("snapshots/s1", b"someone else")
    inner.failures = 1
    with pytest.raises(AlreadyExists):
        retrying(inner, []).create("snapshots/s1", b"mine")


def test_a_plain_duplicate_create_is_not_excused() -> None:
    inner = FlakyBackend(failures=0)
    inner.create("snapshots/s1", b"same")
    with pytest.raises(AlreadyExists):
        retrying(inner, []).create("snapshots/s1", b"same")


def test_listing_is_retried_as_a_whole() -> None:
    inner = FlakyBackend(failures=0)
    inner.create("data/a", b"1")
    inner.failures = 2
    assert [info.name for info in retrying(inner, []).list("data/")] == ["data/a"]


def test_read_only_view_refuses_writes_and_changes_nothing() -> None:
    inner = MemoryBackend()
    inner.create("config", b"c")
    view = ReadOnlyView(inner)
    with pytest.raises(ReadOnlyBackend, match="read-only"):
        view.create("data/p", b"x")
    with pytest.raises(ReadOnlyBackend, match="read-only"):
        view.delete("config")
    assert view.read("config") == b"c"
    assert view.read_range("config", 0, 1) == b"c"
    assert view.exists("config")
    assert [info.name for info in view.list()] == ["config"]
    assert [info.name for info in inner.list()] == ["config"]
