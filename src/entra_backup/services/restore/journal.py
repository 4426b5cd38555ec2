"""The restore journal: what a restore run has done, durable after every item.

A JSON-lines file. The first line names the plan the journal belongs to (tenant, snapshot,
the plan's creation time); every other line is one event of one plan item, by the item's
key:

* ``started``: a re-creation is about to be sent. A ``started`` line without a later
  ``finished`` one means the run stopped while the object may or may not have been
  created; the next run looks for it by its natural key before creating it again.
* ``finished``: the item's outcome (``done``, ``skipped``, ``failed``), with the new id of
  a re-created object (and an application's new ``appId``), the reason, Graph's error and
  notes, so a resumed run rebuilds its id map and its report from the journal alone.

Each line is written with one ``write`` on a file opened for appending and is ``fsync``'ed
before the call returns, so a crash leaves at most a torn last line. Reading ignores torn
lines: the item they describe did not finish and runs again.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from entra_backup.domain.errors import UsageError

JOURNAL_FORMAT = "entra-backup-restore-journal"
JOURNAL_VERSION = 1
STARTED = "started"
FINISHED = "finished"


@dataclass(frozen=True)
class JournalEntry:
    """The last word of the journal on one item."""

    key: str
    event: str
    outcome: str | None = None
    new_id: str | None = None
    old_app_id: str | None = None
    new_app_id: str | None = None
    reason: str = ""
    error: dict[str, Any] | None = None
    notes: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    """Follow-ups for the report (a policy to enable, an application needing secrets)."""

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> JournalEntry:
        error = value.get("error")
        return cls(key=str(value["key"]), event=str(value["event"]),
                   outcome=value.get("outcome"), new_id=value.get("new_id"),
                   old_app_id=value.get("old_app_id"), new_app_id=value.get("new_app_id"),
                   reason=str(value.get("reason") or ""),
                   error=dict(error) if isinstance(error, dict) else None,
                   notes=tuple(str(n) for n in value.get("notes") or ()),
                   flags=tuple(str(f) for f in value.get("flags") or ()))

    def to_json(self) -> dict[str, Any]:
        value: dict[str, Any] = {"key": self.key, "event": self.event}
        for name in ("outcome", "new_id", "old_app_id", "new_app_id", "error"):
            if getattr(self, name) is not None:
                value[name] = getattr(self, name)
        if self.reason:
            value["reason"] = self.reason
        if self.notes:
            value["notes"] = list(self.notes)
        if self.flags:
            value["flags"] = list(self.flags)
        return value


@dataclass
class Journal:
    """An open journal: the entries read at start, and the file further ones go to."""

    path: Path
    header: dict[str, Any]
    entries: dict[str, JournalEntry] = field(default_factory=dict)
    _fd: int | None = None

    @classmethod
    def open(cls, path: Path, header: Mapping[str, Any]) -> Journal:
        """Read ``path`` if it exists (it must belong to the same plan), else start it.

        Nothing is written before the first :meth:`record`, so a run refused before its
        first write leaves no journal behind.
        """
        wanted = {"format": JOURNAL_FORMAT, "version": JOURNAL_VERSION, **header}
        journal = cls(path, wanted)
        if path.exists():
            journal.entries = _read(path, wanted)
        return journal

    def get(self, key: str) -> JournalEntry | None:
        """The latest entry of ``key``, if any."""
        return self.entries.get(key)

    def record(self, entry: JournalEntry) -> None:
        """Append ``entry`` durably (one write, then fsync)."""
        fd = self._descriptor()
        line = orjson.dumps(entry.to_json()) + b"\n"
        written = os.write(fd, line)
        if written != len(line):  # pragma: no cover - a full disk
            raise OSError(f"short write to the restore journal {self.path}")
        os.fsync(fd)
        self.entries[entry.key] = entry

    def close(self) -> None:
        """Close the file (entries stay readable)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _descriptor(self) -> int:
        if self._fd is None:
            new = not self.path.exists() or self.path.stat().st_size == 0
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            if new:
                line = orjson.dumps(self.header) + b"\n"
                os.write(fd, line)
                os.fsync(fd)
                _fsync_directory(self.path.parent)
            elif _ends_torn(self.path):
                # A crash tore the last line: end it, so the next line starts clean.
                os.write(fd, b"\n")
            self._fd = fd
        return self._fd


def read_journal(path: Path) -> dict[str, JournalEntry]:
    """The entries of a journal of any plan (read only), by item key."""
    return _read(path, {})


def _read(path: Path, wanted: Mapping[str, Any]) -> dict[str, JournalEntry]:
    lines = path.read_bytes().split(b"\n")
    entries: dict[str, JournalEntry] = {}
    header_seen = False
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            # A line torn by a crash (later runs end it and go on): its item did not
            # finish, so it runs again, which every step of a restore tolerates.
            continue
        if not isinstance(value, dict):
            raise UsageError(f"the restore journal {path} is damaged at line {number}")
        if not header_seen:
            header_seen = True
            if value.get("format") != JOURNAL_FORMAT:
                raise UsageError(f"{path} is not a restore journal")
            if any(value.get(k) != v for k, v in wanted.items()):
                raise UsageError(f"the restore journal {path} belongs to another restore plan "
                                 f"(snapshot {value.get('snapshot')}, plan of "
                                 f"{value.get('plan_created_at')}); use a new journal file")
            continue
        try:
            entry = JournalEntry.from_json(value)
        except KeyError as exc:
            raise UsageError(f"the restore journal {path} is damaged at line {number}: "
                             f"missing {exc}") from None
        entries[entry.key] = entry
    return entries


def _ends_torn(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) != b"\n"


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory descriptors
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)
