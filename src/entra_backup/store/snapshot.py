"""Snapshots: the root of one backup of one tenant.

A snapshot file (``snapshots/<sha256>``) is a sealed file whose body is canonical JSON::

    {"version": 1, "tenant": "...", "time": "2026-01-01T00:00:00.000000+00:00",
     "tool": "entra-backup 0.1.0", "parent": snapshot id | null, "hostname": "...",
     "types": {"users": {"status": "ok", "count": 12, "bytes": 24000,
                         "manifest": manifest blob id, "message": null,
                         "reused_from": null, "dictionary": dictionary blob id}, ...},
     "state": {...}}

A type from which ``repair snapshots`` removed objects whose data was lost lists their
ids in ``"lost"`` (absent otherwise).

``status`` is ``ok``, ``failed`` (``message`` holds the error; a manifest may be carried
forward from an earlier snapshot) or ``skipped`` (``message`` holds the reason). A
snapshot's id is its file's SHA-256, so it cannot be altered without changing its name.

``state`` is a JSON object the engine keeps with the snapshot (the backup stores each
type's delta link there, so a token only advances together with the data it describes);
the repository does not interpret it. Snapshots written before it existed read as ``{}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from entra_backup.domain.canonical import NotCanonicalisable, canonical_bytes, parse_json
from entra_backup.store.errors import CorruptFile, UnsupportedFormat

SNAPSHOT_VERSION = 1


class TypeStatus(StrEnum):
    """How the backup of one object type ended."""

    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class TypeEntry:
    """One object type in a snapshot."""

    status: TypeStatus
    count: int = 0
    logical_bytes: int = 0
    manifest: bytes | None = None
    message: str | None = None
    reused_from: str | None = None
    dictionary: bytes | None = None
    lost: tuple[str, ...] = ()
    """Ids of objects ``repair snapshots`` removed because their data was lost."""

    def to_json(self) -> dict[str, Any]:
        """The JSON form stored in the snapshot (``lost`` only when some object was)."""
        lost = {"lost": list(self.lost)} if self.lost else {}
        return lost | {
            "status": self.status.value,
            "count": self.count,
            "bytes": self.logical_bytes,
            "manifest": None if self.manifest is None else self.manifest.hex(),
            "message": self.message,
            "reused_from": self.reused_from,
            "dictionary": None if self.dictionary is None else self.dictionary.hex(),
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> TypeEntry:
        """Parse the stored JSON form."""
        manifest = value["manifest"]
        dictionary = value["dictionary"]
        return cls(
            status=TypeStatus(value["status"]),
            count=int(value["count"]),
            logical_bytes=int(value["bytes"]),
            manifest=None if manifest is None else bytes.fromhex(manifest),
            message=value["message"],
            reused_from=value["reused_from"],
            dictionary=None if dictionary is None else bytes.fromhex(dictionary),
            lost=tuple(str(item) for item in value.get("lost") or ()),
        )


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A committed snapshot; ``id`` is empty until it is stored."""

    tenant: str
    time: datetime
    tool: str
    hostname: str
    parent: str | None
    types: Mapping[str, TypeEntry] = field(default_factory=dict)
    id: str = ""
    state: Mapping[str, Any] = field(default_factory=dict)

    @property
    def short_id(self) -> str:
        """The first eight characters of the id, for display."""
        return self.id[:8]

    @property
    def object_count(self) -> int:
        """Objects over all types."""
        return sum(entry.count for entry in self.types.values())

    @property
    def logical_bytes(self) -> int:
        """Canonical JSON bytes over all types."""
        return sum(entry.logical_bytes for entry in self.types.values())

    def encode(self) -> bytes:
        """Canonical JSON body of the snapshot file."""
        return canonical_bytes({
            "version": SNAPSHOT_VERSION,
            "tenant": self.tenant,
            "time": self.time.isoformat(),
            "tool": self.tool,
            "hostname": self.hostname,
            "parent": self.parent,
            "types": {name: entry.to_json() for name, entry in sorted(self.types.items())},
            "state": dict(self.state),
        })

    @classmethod
    def decode(cls, body: bytes, snapshot_id: str) -> Snapshot:
        """Parse a snapshot body stored under ``snapshot_id``."""
        try:
            value = parse_json(body)
            if value["version"] != SNAPSHOT_VERSION:
                raise UnsupportedFormat(
                    f"snapshot {snapshot_id} has format version {value['version']}"
                )
            return cls(
                tenant=str(value["tenant"]),
                time=datetime.fromisoformat(value["time"]),
                tool=str(value["tool"]),
                hostname=str(value["hostname"]),
                parent=value["parent"],
                types={name: TypeEntry.from_json(e) for name, e in value["types"].items()},
                id=snapshot_id,
                state=dict(value.get("state") or {}),
            )
        except (NotCanonicalisable, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CorruptFile(f"snapshot {snapshot_id} is malformed: {exc}") from exc
