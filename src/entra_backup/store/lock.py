"""An exclusive repository lock held as a lease, stored as files through a backend.

Protocol (every step uses only atomic create, read, list and delete of immutable files):

* A lock file ``locks/<holder>.<sequence>`` holds JSON naming the holder (random per
  lock), host, pid, creation time and expiry (``now + ttl`` on the holder's clock).
* **Acquire**: list ``locks/``; a foreign lock whose expiry lies more than ``grace``
  seconds in the past is stale and is deleted (its holder is presumed dead); any other
  foreign lock means :class:`LockHeld`. Then create our own file and list again: if a live
  foreign lock appeared meanwhile, delete ours and raise :class:`LockHeld`. Two racing
  writers can then both fail, but never both succeed, because each one's second listing
  happens after its own create.
* **Refresh** (every ``ttl / 4`` by a thread, or by calling :meth:`RepositoryLock.refresh`):
  create the next file with a new expiry, check that the previous file still exists,
  then delete it. If the previous file vanished, someone judged us stale and took over:
  the new file is removed and the lock is *lost*.
* **Lost**: a holder whose refresh did not succeed before its own expiry, or who was taken
  over, marks the lock lost; :meth:`RepositoryLock.ensure_held` then raises
  :class:`LockLost`, and writers call it before every write so that they stop.
* ``grace`` covers clock skew between hosts: a holder gives up at its expiry, others take
  over only ``grace`` seconds later.
* **A dead holder on this host** is stale at once, without waiting for its lease: when the
  lock names this host (and this boot, if it records one: a pid from before a reboot says
  nothing) and no process has its pid, nobody can be writing under it. A holder on another
  host cannot be probed, so only its lease counts.

Lock files carry no secrets and are plain JSON. Under S3 Object Lock they must be exempt
from retention (``ObjectLockPolicy.exempt_prefixes`` includes ``locks/`` by default); a
stale lock file that cannot be deleted is ignored.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from entra_backup.store.backends.base import Backend, BackendError, NotFound, ObjectLocked

LOCK_PREFIX = "locks/"
DEFAULT_TTL = 120.0
DEFAULT_GRACE = 60.0
_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")
_log = logging.getLogger(__name__)


class LockError(Exception):
    """Base class of repository lock failures."""


class LockHeld(LockError):
    """Another live writer holds the repository lock."""


class LockLost(LockError):
    """This writer no longer holds the lock and must stop writing."""


@dataclass(frozen=True, slots=True)
class LockRecord:
    """The content of one lock file."""

    holder: str
    host: str
    pid: int
    created_at: float
    expires_at: float
    boot: str | None = None
    """The host's boot id when the lock was written (None where the system has none)."""

    def describe(self, now: float | None = None) -> str:
        """A sentence naming the holder (and, given ``now``, how long its lease lasts)."""
        expiry = datetime.fromtimestamp(self.expires_at, UTC).isoformat(timespec="seconds")
        left = ""
        if now is not None:
            seconds = self.expires_at - now
            left = (f", expires in {seconds:.0f} s" if seconds >= 0
                    else f", expired {-seconds:.0f} s ago")
        return (f"holder {self.holder} (host {self.host}, pid {self.pid}, "
                f"lease until {expiry}{left})")


def current_boot() -> str | None:
    """This host's boot id, or None where the system does not expose one."""
    try:
        return _BOOT_ID.read_text().strip() or None
    except OSError:
        return None


def holder_is_gone(record: LockRecord, host: str, boot: str | None) -> bool:
    """Whether the lock's holder is provably dead: same host, same boot, no such process."""
    if record.host != host:
        return False
    if record.boot is not None and boot is not None and record.boot != boot:
        # A reboot since: the holder died with it (its pid may be reused by now).
        return True
    try:
        os.kill(record.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # a process of another user has this pid: it exists
    return False


class RepositoryLock:
    """An exclusive lease on a repository for one writer."""

    def __init__(
        self,
        backend: Backend,
        *,
        ttl: float = DEFAULT_TTL,
        grace: float = DEFAULT_GRACE,
        clock: Callable[[], float] = time.time,
        host: str | None = None,
        pid: int | None = None,
    ) -> None:
        if ttl <= 0 or grace < 0:
            raise ValueError("ttl must be positive and grace not negative")
        self._backend = backend
        self.ttl = ttl
        self.grace = grace
        self._clock = clock
        self.holder = uuid.uuid4().hex
        self._host = host if host is not None else socket.gethostname()
        self._pid = pid if pid is not None else os.getpid()
        self._boot = current_boot()
        self._sequence = 0
        self._current: tuple[str, LockRecord] | None = None
        self._lost: str | None = None
        self._mutex = threading.RLock()
        self._stop = threading.Event()
        self._refresher: threading.Thread | None = None

    @property
    def file_name(self) -> str | None:
        """The name of the lock file currently held, if any."""
        return None if self._current is None else self._current[0]

    def acquire(self) -> None:
        """Take the lock, taking over stale locks; raise LockHeld if a live writer has it."""
        with self._mutex:
            if self._current is not None:
                raise LockError("this lock is already held")
            self._remove_stale_or_refuse()
            name, record = self._write_next()
            try:
                self._refuse_if_contended()
            except (LockError, BackendError):
                self._delete_quietly(name)
                raise
            self._current = (name, record)
            self._lost = None

    def refresh(self) -> None:
        """Extend the lease; raise LockLost if it expired or was taken over."""
        with self._mutex:
            self.ensure_held()
            assert self._current is not None
            old_name = self._current[0]
            new_name, record = self._write_next()
            try:
                taken_over = not self._backend.exists(old_name)
            except BackendError:
                self._delete_quietly(new_name)
                raise
            if taken_over:
                self._delete_quietly(new_name)
                raise self._mark_lost(f"lock file {old_name} was removed by another writer")
            self._current = (new_name, record)
            self._delete_quietly(old_name)

    def ensure_held(self) -> None:
        """Raise LockLost unless the lease is held and unexpired; call before every write."""
        with self._mutex:
            if self._lost is not None:
                raise LockLost(self._lost)
            if self._current is None:
                raise LockError("the repository lock is not held")
            expires_at = self._current[1].expires_at
            if self._clock() >= expires_at:
                raise self._mark_lost(f"the lease expired at {expires_at:.0f} before a refresh")

    def release(self) -> None:
        """Stop refreshing and remove this holder's lock files (a no-op if not held).

        A file that cannot be removed now is left to expire; release never raises for it,
        so that it can run in ``finally`` blocks without hiding the original error.
        """
        self.stop_refreshing()
        with self._mutex:
            if self._current is None:
                return
            self._current = None
            try:
                for info in list(self._backend.list(f"{LOCK_PREFIX}{self.holder}.")):
                    self._delete_quietly(info.name)
            except BackendError as exc:
                _log.warning("repository lock not removed, it will expire: %s", exc)

    def start_refreshing(self, interval: float | None = None) -> None:
        """Refresh in a daemon thread every ``interval`` seconds (default ``ttl / 4``)."""
        self.ensure_held()
        if self._refresher is not None:
            raise LockError("the lock is already being refreshed")
        self._stop.clear()
        period = self.ttl / 4 if interval is None else interval
        self._refresher = threading.Thread(
            target=self._refresh_loop, args=(period,), name="repository-lock", daemon=True
        )
        self._refresher.start()

    def stop_refreshing(self) -> None:
        """Stop the refresh thread, if one runs."""
        self._stop.set()
        if self._refresher is not None:
            self._refresher.join()
            self._refresher = None

    @contextmanager
    def held(self, refresh_interval: float | None = None) -> Iterator[RepositoryLock]:
        """Acquire, keep refreshing in the background, and release at the end."""
        self.acquire()
        try:
            self.start_refreshing(refresh_interval)
            yield self
        finally:
            self.release()

    def _refresh_loop(self, period: float) -> None:
        while not self._stop.wait(period):
            try:
                self.refresh()
            except LockLost as exc:
                _log.error("repository lock lost: %s", exc)
                return
            except BackendError as exc:
                _log.warning("repository lock refresh failed, will retry: %s", exc)

    def _write_next(self) -> tuple[str, LockRecord]:
        now = self._clock()
        record = LockRecord(self.holder, self._host, self._pid, now, now + self.ttl, self._boot)
        self._sequence += 1
        name = f"{LOCK_PREFIX}{self.holder}.{self._sequence:08d}"
        self._backend.create(name, json.dumps(asdict(record), sort_keys=True).encode())
        return name, record

    def _remove_stale_or_refuse(self) -> None:
        for name, record in self._foreign_locks():
            if self._is_stale(record):
                _log.warning("taking over stale repository lock %s: %s", name, record.describe())
                self._delete_quietly(name)
            else:
                raise LockHeld(
                    f"the repository is locked by {record.describe(self._clock())} ({name})"
                )

    def _refuse_if_contended(self) -> None:
        for name, record in self._foreign_locks():
            if not self._is_stale(record):
                raise LockHeld(
                    f"the repository is locked by {record.describe(self._clock())} ({name})"
                )

    def _foreign_locks(self) -> Iterator[tuple[str, LockRecord]]:
        for name, record in self.foreign_locks():
            if record is None:
                raise LockHeld(
                    f"unreadable lock file {name}; if no job uses the repository, remove it "
                    "with 'entra-backup unlock --force'"
                )
            yield name, record

    def _is_stale(self, record: LockRecord) -> bool:
        return self.is_stale(record)

    def is_stale(self, record: LockRecord) -> bool:
        """Whether a foreign lock may be removed: its lease expired (plus ``grace``) or its
        holder is a dead process on this host."""
        if self._clock() > record.expires_at + self.grace:
            return True
        return holder_is_gone(record, self._host, self._boot)

    def foreign_locks(self) -> Iterator[tuple[str, LockRecord | None]]:
        """Every lock file of another holder with its record (None if unreadable)."""
        for info in list(self._backend.list(LOCK_PREFIX)):
            if info.name.startswith(f"{LOCK_PREFIX}{self.holder}."):
                continue
            try:
                yield info.name, _parse(self._backend.read(info.name))
            except NotFound:
                continue

    def remove(self, name: str) -> None:
        """Delete another holder's lock file (``unlock``)."""
        self._delete_quietly(name)

    def now(self) -> float:
        """The lock's clock."""
        return self._clock()

    def _mark_lost(self, reason: str) -> LockLost:
        self._lost = reason
        self._stop.set()
        return LockLost(reason)

    def _delete_quietly(self, name: str) -> None:
        with suppress(NotFound, ObjectLocked):
            self._backend.delete(name)


def _parse(data: bytes) -> LockRecord | None:
    try:
        fields = json.loads(data)
        return LockRecord(
            holder=str(fields["holder"]),
            host=str(fields["host"]),
            pid=int(fields["pid"]),
            created_at=float(fields["created_at"]),
            expires_at=float(fields["expires_at"]),
            boot=None if fields.get("boot") is None else str(fields["boot"]),
        )
    except (ValueError, KeyError, TypeError):
        return None
