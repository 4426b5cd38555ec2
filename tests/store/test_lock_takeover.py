"""A lock left by a dead process on this host is taken over at once, not after its lease;
``unlock`` removes stale locks and refuses a live holder's unless forced."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from entra_backup.services.repair import unlock
from entra_backup.store.backends.memory import MemoryBackend
from entra_backup.store.errors import LockHolderAlive
from entra_backup.store.lock import LOCK_PREFIX, LockHeld, RepositoryLock, current_boot


def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def lock_files(backend: MemoryBackend) -> list[str]:
    return sorted(info.name for info in backend.list(LOCK_PREFIX))


def held_by(backend: MemoryBackend, *, pid: int, host: str | None = None) -> RepositoryLock:
    """A lock acquired in the name of ``pid`` (default: this host), left unreleased."""
    lock = RepositoryLock(backend, host=host, pid=pid)
    lock.acquire()
    return lock


def test_a_dead_holder_on_this_host_is_taken_over_at_once() -> None:
    backend = MemoryBackend()
    crashed = held_by(backend, pid=dead_pid())
    successor = RepositoryLock(backend)
    successor.acquire()
    assert lock_files(backend) == [successor.file_name]
    assert crashed.file_name not in lock_files(backend)


def test_a_live_holder_on_this_host_is_refused_with_the_time_left() -> None:
    backend = MemoryBackend()
    held_by(backend, pid=os.getpid())
    with pytest.raises(LockHeld, match=r"pid \d+, lease until .*expires in \d+ s"):
        RepositoryLock(backend).acquire()


def test_a_dead_pid_on_another_host_proves_nothing() -> None:
    backend = MemoryBackend()
    held_by(backend, pid=dead_pid(), host="another-host")
    with pytest.raises(LockHeld, match="host another-host"):
        RepositoryLock(backend).acquire()


@pytest.mark.skipif(current_boot() is None, reason="this system exposes no boot id")
def test_the_lock_records_the_boot_and_a_lock_from_an_earlier_boot_is_stale() -> None:
    backend = MemoryBackend()
    lock = held_by(backend, pid=os.getpid())
    assert lock.file_name is not None
    record = json.loads(backend.read(lock.file_name))
    assert record["boot"] == current_boot()
    record["boot"] = "an-earlier-boot"
    backend.delete(lock.file_name)
    backend.create(lock.file_name, json.dumps(record).encode())
    RepositoryLock(backend).acquire()  # our own pid is alive, but not from that boot


def test_a_lock_without_a_boot_id_is_judged_by_its_pid() -> None:
    backend = MemoryBackend()
    record = {"holder": "old", "host": socket.gethostname(), "pid": dead_pid(),
              "created_at": 0.0, "expires_at": 4e9}
    backend.create(f"{LOCK_PREFIX}old.00000001", json.dumps(record).encode())
    RepositoryLock(backend).acquire()


def test_unlock_removes_a_stale_lock_and_refuses_a_live_one_unless_forced() -> None:
    backend = MemoryBackend()
    held_by(backend, pid=dead_pid())
    report = unlock(backend)
    assert [item["reason"] for item in report.removed] == ["stale"]
    assert lock_files(backend) == []

    live = held_by(backend, pid=os.getpid())
    with pytest.raises(LockHolderAlive, match=r"--force.*second writer"):
        unlock(backend)
    assert lock_files(backend) == [live.file_name]
    forced = unlock(backend, force=True)
    assert [item["reason"] for item in forced.removed] == ["forced"]
    assert lock_files(backend) == []


def test_unlock_removes_an_expired_lease_of_another_host() -> None:
    backend = MemoryBackend()
    RepositoryLock(backend, ttl=10, clock=lambda: 1000.0, host="far", pid=1).acquire()
    with pytest.raises(LockHolderAlive, match=r"host far.*expires in 5 s"):
        unlock(backend, clock=lambda: 1005.0)
    assert lock_files(backend) != []
    later = unlock(backend, clock=lambda: 1000.0 + 10 + 60 + 1)
    assert [item["reason"] for item in later.removed] == ["stale"]
    assert lock_files(backend) == []
