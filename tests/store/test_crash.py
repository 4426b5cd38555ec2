"""Crash safety: a writer killed with SIGKILL at any backend write leaves a repository that
passes check, shows only complete snapshots and accepts the next commit.

A forked child writes a second snapshot through a backend that kills the process just
before or just after its Nth ``create``. On local disk every N over the whole commit is
tried, so the kill lands between document packs, index files, the snapshot file and the
lock file. On S3 (the moto server on loopback) a representative few are tried: what
differs there is the backend, not the commit's order of writes, and each kill costs
seconds of S3 round trips.
"""

from __future__ import annotations

import os
import shutil
import signal
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from entra_backup.store.backends.base import Backend, FileInfo
from entra_backup.store.backends.local import LocalBackend
from entra_backup.store.backends.s3 import S3Backend
from entra_backup.store.check import check
from entra_backup.store.repository import Repository
from tests.store._support import group, passphrase_provider, user
from tests.store.conftest import s3_settings

# Tens of seconds each (a forked writer and a full check per kill point).
pytestmark = pytest.mark.slow

USERS = 400
CHANGED = frozenset(range(0, USERS, 3))


class KillingBackend(Backend):
    """Delegates to a backend and SIGKILLs the process at the chosen create."""

    def __init__(self, inner: Backend, kill_at: int, after: bool) -> None:
        self._inner = inner
        self._kill_at = kill_at
        self._after = after
        self.creates: list[str] = []

    def create(self, name: str, data: bytes) -> None:
        self.creates.append(name)
        if len(self.creates) == self._kill_at and not self._after:
            os.kill(os.getpid(), signal.SIGKILL)
        self._inner.create(name, data)
        if len(self.creates) == self._kill_at and self._after:
            os.kill(os.getpid(), signal.SIGKILL)

    def read(self, name: str) -> bytes:
        return self._inner.read(name)

    def read_range(self, name: str, offset: int, length: int) -> bytes:
        return self._inner.read_range(name, offset, length)

    def delete(self, name: str) -> None:
        self._inner.delete(name)

    def list(self, prefix: str = "") -> Iterator[FileInfo]:
        return self._inner.list(prefix)

    def exists(self, name: str) -> bool:
        return self._inner.exists(name)


@dataclass
class Place:
    """Where repositories live: ``make(name)`` opens one by name, ``copy`` duplicates one.

    ``make_in_child`` opens one in a forked child, which must not reuse the parent's
    network connections.
    """

    make: Callable[[str], Backend]
    copy: Callable[[str, str], None]
    make_in_child: Callable[[str], Backend]
    every_kill_point: bool = True
    """Whether to kill at every create, or only at :func:`sampled_kill_points`."""


def copy_files(make: Callable[[str], Backend], source: str, target: str) -> None:
    origin, copy = make(source), make(target)
    for info in origin.list(""):
        copy.create(info.name, origin.read(info.name))


@pytest.fixture(scope="module", params=["local", "s3"])
def place(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Place:
    if request.param == "local":
        root = tmp_path_factory.mktemp("crash")

        def local(name: str) -> Backend:
            return LocalBackend(str(root / name))

        return Place(local, lambda a, b: shutil.copytree(root / a, root / b), local)
    server: Any = request.getfixturevalue("moto_server")
    bucket = request.getfixturevalue("make_bucket")()
    shared: Any = request.getfixturevalue("backend_s3_client")

    def s3(name: str) -> Backend:
        return S3Backend(s3_settings(server, bucket, prefix=name), client=shared)

    def s3_in_child(name: str) -> Backend:
        return S3Backend(s3_settings(server, bucket, prefix=name))

    return Place(s3, lambda a, b: copy_files(s3, a, b), s3_in_child, every_kill_point=False)


def open_repo(backend: Backend) -> Repository:
    repo = Repository.open(backend, passphrase_provider())
    repo.index_every = 2
    return repo


def write_second_snapshot(repo: Repository) -> None:
    with repo.writer("contoso") as writer:
        for number in range(USERS):
            writer.add("users", f"user-{number:05d}", user(number, int(number in CHANGED)))
        for number in range(60):
            writer.add("groups", f"group-{number:04d}", group(number))
        writer.commit()


def run_child(place: Place, name: str, kill_at: int, after: bool, log: Path) -> int:
    """Fork a writer; return its wait status. The child writes the creates it made to ``log``."""
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            backend = KillingBackend(place.make_in_child(name), kill_at, after)
            write_second_snapshot(open_repo(backend))
            log.write_text("\n".join(backend.creates))
        except BaseException:
            traceback.print_exc()
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    return status


@pytest.fixture(scope="module")
def baseline(place: Place, tmp_path_factory: pytest.TempPathFactory) -> tuple[Place, list[str]]:
    """A repository with one snapshot, and the names the second commit creates, in order."""
    repo = Repository.init(place.make("baseline"), passphrase_provider(), pack_size=1024)
    with repo.writer("contoso") as writer:
        for number in range(USERS):
            writer.add("users", f"user-{number:05d}", user(number))
        writer.commit()
    place.copy("baseline", "probe")
    log = tmp_path_factory.mktemp("creates") / "creates.txt"
    assert run_child(place, "probe", 10**9, False, log) == 0
    return place, log.read_text().splitlines()


def kill_points(creates: list[str]) -> list[tuple[int, bool]]:
    return [(n, after) for n in range(1, len(creates) + 1) for after in (False, True)]


def sampled_kill_points(creates: list[str]) -> list[tuple[int, bool]]:
    """Before the first index file (packs written, none indexed), and just before and just
    after the snapshot file, the commit point: both outcomes, and the orphan-pack case."""
    first_index = next(n for n, name in enumerate(creates, 1) if name.startswith("index/"))
    last = len(creates)
    return [(first_index, False), (last, False), (last, True)]


def test_the_commit_writes_enough_files_to_kill_it_in_at_least_50_places(
    baseline: tuple[Place, list[str]],
) -> None:
    _, creates = baseline
    kinds = {name.split("/")[0] for name in creates}
    assert {"data", "index", "snapshots", "locks"} <= kinds
    assert len(kill_points(creates)) >= 50
    assert creates[-1].startswith("snapshots/"), "the snapshot is the last data written"


def test_a_writer_killed_anywhere_leaves_a_consistent_repository(
    baseline: tuple[Place, list[str]], tmp_path: Path,
) -> None:
    place, creates = baseline
    first_id = open_repo(place.make("baseline")).load_snapshot("latest").id
    outcomes = set()
    points = kill_points(creates) if place.every_kill_point else sampled_kill_points(creates)
    for number, after in points:
        work = f"kill-{number}-{after}"
        place.copy("baseline", work)
        status = run_child(place, work, number, after, tmp_path / "unused.txt")
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, (number, after)
        where = f"kill at create {number}, after={after}"
        outcomes.add(verify_after_crash(place.make(work), first_id, where))
    assert outcomes == {1, 2}, "some kills lost the second snapshot, the last ones kept it"


def verify_after_crash(backend: Backend, first_id: str, where: str) -> int:
    """Check, read every snapshot completely, then commit again; return the snapshot count."""
    repo = open_repo(backend)
    report = check(repo, read_data=True)
    assert report.ok, (where, report.problems)
    snapshots = repo.snapshots()
    assert snapshots[0].id == first_id, where
    for snapshot in snapshots:
        second = snapshot.id != first_id
        expected = {f"user-{n:05d}": user(n, int(second and n in CHANGED)) for n in range(USERS)}
        assert dict(repo.objects(snapshot, "users")) == expected, where
        if second:
            assert sum(1 for _ in repo.objects(snapshot, "groups")) == 60, where
    # The killed writer was a process on this host and is gone: its lock (if any) is taken
    # over at once, without waiting for the lease to run out.
    with repo.writer("contoso") as writer:
        writer.add("users", "user-99999", user(99999))
        third = writer.commit()
    assert not any(repo.backend.list("locks/")), where
    assert repo.get(third, "users", "user-99999") == user(99999)
    assert check(open_repo(backend)).ok, where
    return len(snapshots)
