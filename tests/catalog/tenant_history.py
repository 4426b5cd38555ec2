"""A small tenant history for catalog tests, kept as an in-memory SnapshotSource."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from entra_backup.catalog import ObjectVersion, SnapshotInfo
from entra_backup.catalog.fields import version_hash

START = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


def user(object_id: str, name: str, upn: str, modified: str = "2026-02-01T10:00:00Z",
         **extra: Any) -> tuple[str, str, dict[str, Any]]:
    """A user document keyed by type and id."""
    document = {"id": object_id, "displayName": name, "userPrincipalName": upn,
                "mail": upn, "createdDateTime": modified, **extra}
    return "users", object_id, document


def group(object_id: str, name: str, mail: str | None,
          modified: str = "2026-01-15T08:00:00Z") -> tuple[str, str, dict[str, Any]]:
    """A group document."""
    return "groups", object_id, {"id": object_id, "displayName": name, "mail": mail,
                                 "createdDateTime": modified}


def application(object_id: str, name: str, app_id: str,
                modified: str = "2025-12-01T00:00:00Z") -> tuple[str, str, dict[str, Any]]:
    """An application document."""
    return "applications", object_id, {"id": object_id, "displayName": name, "appId": app_id,
                                       "createdDateTime": modified}


@dataclass
class History:
    """Snapshots and their objects, recorded in the order they were taken."""

    entries: list[tuple[SnapshotInfo, list[ObjectVersion]]] = field(default_factory=list)

    def take(self, tenant: str, objects: list[tuple[str, str, dict[str, Any]]],
             status: dict[str, str] | None = None) -> SnapshotInfo:
        """Add a snapshot of ``objects``; every type ok unless ``status`` says otherwise."""
        types = {type_: "ok" for type_, _, _ in objects} | (status or {})
        info = SnapshotInfo(id=f"{len(self.entries):02d}" + "ab" * 31, tenant=tenant,
                            time=START + timedelta(days=len(self.entries)), type_status=types)
        versions = [ObjectVersion(t, i, version_hash(d), d) for t, i, d in objects]
        self.entries.append((info, versions))
        return info

    def snapshots(self) -> list[SnapshotInfo]:
        """Every snapshot (the SnapshotSource protocol), newest first to prove sorting."""
        return [info for info, _ in reversed(self.entries)]

    def versions(self, snapshot: SnapshotInfo) -> Iterator[ObjectVersion]:
        """A snapshot's objects."""
        for info, versions in self.entries:
            if info.id == snapshot.id:
                yield from versions
