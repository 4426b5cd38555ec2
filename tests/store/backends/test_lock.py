"""The repository lock: exclusive, refreshed, taken over when stale, and lost for good."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import suppress

import pytest

from entra_backup.store.backends.base import Backend, FileInfo, TransientError
from entra_backup.store.backends.memory import MemoryBackend
from entra_backup.store.lock import LOCK_PREFIX, LockHeld, LockLost, RepositoryLock

TTL = 100.0
GRACE = 30.0


class FakeClock:
    """Seconds since the epoch that move only when told to."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Outage(MemoryBackend):
    """A memory backend whose writes can be switched off, like storage that went away."""

    down = False

    def create(self, name: str, data: bytes) -> None:
        if self.down:
            raise TransientError("connection reset")
        super().create(name, data)

    def list(self, prefix: str = "") -> Iterator[FileInfo]:
        if self.down:
            raise TransientError("connection reset")
        return super().list(prefix)


def lock_files(backend: Backend) -> list[str]:
    return sorted(info.name for info in backend.list(LOCK_PREFIX))


def new_lock(backend: Backend, clock: FakeClock, host: str = "host-a") -> RepositoryLock:
    return RepositoryLock(backend, ttl=TTL, grace=GRACE, clock=clock, host=host, pid=4242)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_lock_file_names_holder_host_pid_and_expiry(backend: Backend, clock: FakeClock) -> None:
    lock = new_lock(backend, clock)
    lock.acquire()
    [name] = lock_files(backend)
    record = json.loads(backend.read(name))
    assert record["holder"] == lock.holder
    assert (record["host"], record["pid"]) == ("host-a", 4242)
    assert record["expires_at"] == clock.now + TTL
    lock.ensure_held()


def test_a_second_writer_is_refused_with_the_holder_named(
    backend: Backend, clock: FakeClock
) -> None:
    new_lock(backend, clock).acquire()
    with pytest.raises(LockHeld, match="host host-a, pid 4242"):
        new_lock(backend, clock, host="host-b").acquire()
    assert len(lock_files(backend)) == 1


def test_a_stale_lock_is_taken_over(backend: Backend, clock: FakeClock) -> None:
    crashed = new_lock(backend, clock)
    crashed.acquire()
    clock.advance(TTL + GRACE - 1)
    with pytest.raises(LockHeld):
        new_lock(backend, clock, host="host-b").acquire()
    clock.advance(2)
    successor = new_lock(backend, clock, host="host-b")
    successor.acquire()
    assert lock_files(backend) == [successor.file_name]
    with pytest.raises(LockLost):
        crashed.ensure_held()


def test_refreshing_keeps_the_lock_past_its_first_expiry(
    backend: Backend, clock: FakeClock
) -> None:
    lock = new_lock(backend, clock)
    lock.acquire()
    first = lock.file_name
    for _ in range(5):
        clock.advance(TTL * 0.8)
        lock.refresh()
        lock.ensure_held()
    assert lock_files(backend) == [lock.file_name]
    assert lock.file_name != first
    with pytest.raises(LockHeld):
        new_lock(backend, clock, host="host-b").acquire()


def test_a_lost_lock_stops_the_writer(clock: FakeClock) -> None:
    backend = Outage()
    lock = new_lock(backend, clock)
    lock.acquire()
    written: list[str] = []

    def write_pack(number: int) -> None:
        lock.ensure_held()
        written.append(f"data/{number}")

    backend.down = True
    with pytest.raises(LockLost, match="expired"):
        for number in range(100):
            write_pack(number)
            clock.advance(10)
            with suppress(TransientError):
                lock.refresh()
    assert len(written) == TTL / 10
    backend.down = False
    with pytest.raises(LockLost):
        lock.refresh()
    with pytest.raises(LockLost):
        write_pack(999)


def test_a_taken_over_holder_learns_it_on_refresh(backend: Backend, clock: FakeClock) -> None:
    slow = new_lock(backend, clock)
    slow.acquire()
    ahead = FakeClock(clock.now + TTL + GRACE + 1)
    usurper = new_lock(backend, ahead, host="host-b")
    usurper.acquire()
    with pytest.raises(LockLost, match="removed by another writer"):
        slow.refresh()
    with pytest.raises(LockLost):
        slow.ensure_held()
    assert lock_files(backend) == [usurper.file_name]
    usurper.ensure_held()


def test_release_frees_the_repository_at_once(backend: Backend, clock: FakeClock) -> None:
    lock = new_lock(backend, clock)
    lock.acquire()
    lock.release()
    assert lock_files(backend) == []
    new_lock(backend, clock, host="host-b").acquire()


def test_an_unreadable_lock_file_blocks_with_advice(backend: Backend, clock: FakeClock) -> None:
    backend.create(f"{LOCK_PREFIX}garbage", b"not json")
    with pytest.raises(LockHeld, match="unreadable lock file"):
        new_lock(backend, clock).acquire()
    assert lock_files(backend) == [f"{LOCK_PREFIX}garbage"]


def test_racing_writers_never_both_hold_the_lock(clock: FakeClock) -> None:
    backend = MemoryBackend()
    holders: list[RepositoryLock] = []
    barrier = threading.Barrier(6)

    def contend(host: str) -> None:
        lock = new_lock(backend, clock, host=host)
        barrier.wait()
        try:
            lock.acquire()
            holders.append(lock)
        except LockHeld:
            pass

    threads = [threading.Thread(target=contend, args=(f"h{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(holders) <= 1
    assert lock_files(backend) == [lock.file_name for lock in holders]


def test_the_background_refresher_extends_the_lease(clock: FakeClock) -> None:
    backend = MemoryBackend()
    lock = new_lock(backend, clock)
    with lock.held(refresh_interval=0.001):
        first = lock.file_name
        clock.advance(TTL / 2)
        deadline = time.monotonic() + 5
        while lock.file_name == first and time.monotonic() < deadline:
            time.sleep(0.001)
        clock.advance(TTL / 2 + 1)
        lock.ensure_held()
    assert lock_files(backend) == []
