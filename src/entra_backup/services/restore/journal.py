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

Every event line carries a ``mac``: HMAC-SHA256 (the repository's journal key, see
:class:`JournalSeal`) of the line bound to the repository id, tenant, snapshot and run
id. A journal says which new id a re-created object got, and later runs write through
that map; a line that does not authenticate (edited, copied from another run or
repository, or written by a version without MACs) is ignored and its line number kept
(:attr:`Journal.rejected`) so that the caller can warn about it. Its item runs again,
which every step tolerates.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from entra_backup.domain.canonical import canonical_bytes
from entra_backup.domain.errors import UsageError
from entra_backup.store.crypto import RepositoryKeys

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


MAC_FIELD = "mac"


@dataclass(frozen=True)
class JournalSeal:
    """How the lines of one run's journal are authenticated: the repository's journal MAC
    (``RepositoryKeys.journal_mac``) over the line bound to its repository, tenant,
    snapshot and run, so a line moved to another run or repository fails too."""

    mac: Callable[[bytes], bytes] = field(repr=False)
    repository: str
    tenant: str
    snapshot: str
    run: str

    @classmethod
    def for_journal(cls, keys: RepositoryKeys, tenant: str, snapshot: str,
                    journal: Path) -> JournalSeal:
        """The seal of the journal file ``journal``, whose folder names its run."""
        return cls(keys.journal_mac, keys.repo_id.hex(), tenant, snapshot,
                   journal.parent.name)

    def of(self, value: Mapping[str, Any]) -> str:
        """The MAC (hex) of a line's fields (its ``mac`` aside)."""
        bound = {"repository": self.repository, "tenant": self.tenant,
                 "snapshot": self.snapshot, "run": self.run,
                 "line": {k: v for k, v in value.items() if k != MAC_FIELD}}
        return self.mac(canonical_bytes(bound)).hex()

    def accepts(self, value: Mapping[str, Any]) -> bool:
        """Whether ``value`` carries its right MAC."""
        given = value.get(MAC_FIELD)
        return isinstance(given, str) and hmac.compare_digest(given, self.of(value))


@dataclass
class Journal:
    """An open journal: the entries read at start, and the file further ones go to."""

    path: Path
    header: dict[str, Any]
    seal: JournalSeal
    entries: dict[str, JournalEntry] = field(default_factory=dict)
    rejected: list[int] = field(default_factory=list)
    """Line numbers that did not authenticate (ignored)."""
    _fd: int | None = None

    @classmethod
    def open(cls, path: Path, header: Mapping[str, Any], seal: JournalSeal) -> Journal:
        """Read ``path`` if it exists (it must belong to the same plan), else start it.

        Nothing is written before the first :meth:`record`, so a run refused before its
        first write leaves no journal behind.
        """
        wanted = {"format": JOURNAL_FORMAT, "version": JOURNAL_VERSION, **header}
        journal = cls(path, wanted, seal)
        if path.exists():
            journal.entries, journal.rejected = _read(path, wanted, seal)
        return journal

    def get(self, key: str) -> JournalEntry | None:
        """The latest entry of ``key``, if any."""
        return self.entries.get(key)

    def record(self, entry: JournalEntry) -> None:
        """Append ``entry`` durably (one write, then fsync)."""
        fd = self._descriptor()
        value = entry.to_json()
        value[MAC_FIELD] = self.seal.of(value)
        line = orjson.dumps(value) + b"\n"
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


def read_journal(path: Path, seal: JournalSeal) -> tuple[dict[str, JournalEntry], list[int]]:
    """The authenticated entries of a journal of any plan (read only), by item key, and
    the numbers of the lines that did not authenticate."""
    return _read(path, {}, seal)


def peek_journal(path: Path) -> dict[str, JournalEntry]:
    """The entries of a journal, MACs unchecked: only to show a run's progress (counts
    in a listing), never to decide what a restore writes."""
    return _read(path, {}, None)[0]


def rejection_warnings(run: str, rejected: list[int]) -> list[str]:
    """One warning per journal line that did not authenticate."""
    return [f"line {number} of the journal of restore run {run} does not authenticate "
            "(changed, or not written by this repository's restores); ignored"
            for number in rejected]


def _read(path: Path, wanted: Mapping[str, Any], seal: JournalSeal | None
          ) -> tuple[dict[str, JournalEntry], list[int]]:
    lines = path.read_bytes().split(b"\n")
    entries: dict[str, JournalEntry] = {}
    rejected: list[int] = []
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
        if seal is not None and not seal.accepts(value):
            rejected.append(number)
            continue
        try:
            entry = JournalEntry.from_json(value)
        except KeyError as exc:
            raise UsageError(f"the restore journal {path} is damaged at line {number}: "
                             f"missing {exc}") from None
        entries[entry.key] = entry
    return entries, rejected


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
