"""The snapshots this home has seen in a repository, so that a rollback is noticed.

Someone who can write the bucket cannot forge a snapshot, but can delete one: deleting the
newest snapshot file makes ``latest`` silently an older one, and a restore would then bring
back, say, an attacker's old Global Administrator membership. From inside the repository a
deleted snapshot looks exactly like ``forget``. So the home remembers every snapshot it has
listed or written (``seen/<repository id>.json``, 0600: id, tenant, time) and every one its
own ``forget``, ``prune`` or ``repair`` removed. A listing that lacks a remembered snapshot,
or in which one no longer authenticates, is refused unless the operator accepts it
(``--accept-missing-snapshots``), which drops them from the record.

Several processes of one home may update the record at once: every change is a
read-modify-write under an exclusive ``flock`` and an atomic replace. Ids removed by this
home are kept as such, so a listing that raced with a ``forget`` never adds them back.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from entra_backup.store.errors import RepositoryError
from entra_backup.store.snapshot import Snapshot

_VERSION = 1
_SHOWN = 5


class MissingSnapshots(RepositoryError):
    """Snapshots this home saw in the repository are gone or no longer authenticate."""

    exit_code = 31


@dataclass(frozen=True)
class Gap:
    """A remembered snapshot that the repository no longer gives back."""

    id: str
    tenant: str
    time: str
    reason: str

    def describe(self) -> str:
        """``1a2b3c4d (contoso, 2026-01-01T02:00) deleted``"""
        return f"{self.id[:8]} ({self.tenant}, {self.time[:16]}) {self.reason}"


class SeenSnapshots:
    """The record of one repository's snapshots in one home."""

    def __init__(self, path: Path, *, accept_missing: bool = False,
                 warn: Callable[[str], None] = lambda _message: None) -> None:
        self.path = path
        self.accept_missing = accept_missing
        self.warn = warn

    def listed(self, readable: list[Snapshot], unreadable: Mapping[str, str]) -> None:
        """Compare a full listing with the record, then record what it showed.

        ``unreadable`` maps the ids of snapshot files that did not open to why. Raise
        :class:`MissingSnapshots` when a remembered snapshot is absent or unreadable
        (unless accepted: then they are dropped from the record, with a warning).
        """
        with self._updating() as record:
            gaps = self.gaps(record, {s.id for s in readable}, unreadable)
            if gaps and not self.accept_missing:
                raise MissingSnapshots(_refusal(gaps))
            for gap in gaps:
                record["snapshots"].pop(gap.id, None)
                record["removed"][gap.id] = _now()
            if gaps:
                self.warn(f"accepted {len(gaps)} missing snapshot(s): "
                          + "; ".join(gap.describe() for gap in gaps))
            for snapshot in readable:
                if snapshot.id not in record["removed"]:
                    record["snapshots"][snapshot.id] = _entry(snapshot)

    def gaps(self, record: Mapping[str, Any], present: set[str],
             unreadable: Mapping[str, str]) -> list[Gap]:
        """Remembered snapshots not among ``present``, oldest first."""
        found = []
        for snapshot_id, entry in record["snapshots"].items():
            if snapshot_id in present:
                continue
            reason = "no longer authenticates" if snapshot_id in unreadable else "was deleted"
            found.append(Gap(snapshot_id, str(entry.get("tenant", "?")),
                             str(entry.get("time", "?")), reason))
        return sorted(found, key=lambda gap: (gap.time, gap.id))

    def missing(self, present: set[str], unreadable: Mapping[str, str]) -> list[Gap]:
        """What :meth:`listed` would refuse, without changing the record (for ``check``)."""
        return self.gaps(self.read(), present, unreadable)

    def written(self, snapshot: Snapshot) -> None:
        """A snapshot this process has just stored."""
        with self._updating() as record:
            record["snapshots"][snapshot.id] = _entry(snapshot)

    def removed(self, snapshot_id: str) -> None:
        """A snapshot this home deleted on purpose (forget, repair)."""
        with self._updating() as record:
            record["snapshots"].pop(snapshot_id, None)
            record["removed"][snapshot_id] = _now()

    def read(self) -> dict[str, Any]:
        """The record (empty when the home has seen nothing yet)."""
        try:
            value = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return _empty()
        except (OSError, ValueError) as exc:
            raise MissingSnapshots(f"the record of seen snapshots {self.path} is unreadable "
                                   f"({exc}); delete it to start a new record") from exc
        if not isinstance(value, dict) or value.get("version") != _VERSION:
            raise MissingSnapshots(f"the record of seen snapshots {self.path} has an unknown "
                                   "format; delete it to start a new record")
        return {"version": _VERSION, "snapshots": dict(value.get("snapshots") or {}),
                "removed": dict(value.get("removed") or {})}

    @contextmanager
    def _updating(self) -> Iterator[dict[str, Any]]:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            record = self.read()
            before = json.dumps(record, sort_keys=True)
            yield record
            if json.dumps(record, sort_keys=True) != before:
                _write_private(self.path, json.dumps(record, indent=1, sort_keys=True) + "\n")
        finally:
            os.close(descriptor)


def _refusal(gaps: list[Gap]) -> str:
    shown = "; ".join(gap.describe() for gap in gaps[:_SHOWN])
    more = f" and {len(gaps) - _SHOWN} more" if len(gaps) > _SHOWN else ""
    return (f"{len(gaps)} snapshot(s) this home has seen are gone from the repository or no "
            f"longer open (deleted or rolled back by someone who can write it?): {shown}{more}; "
            "if they were removed on purpose, rerun as 'entra-backup --accept-missing-snapshots "
            "COMMAND ...'")


def _entry(snapshot: Snapshot) -> dict[str, str]:
    return {"tenant": snapshot.tenant, "time": snapshot.time.isoformat()}


def _empty() -> dict[str, Any]:
    return {"version": _VERSION, "snapshots": {}, "removed": {}}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _write_private(path: Path, text: str) -> None:
    """Replace the record atomically, readable by its owner only."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
