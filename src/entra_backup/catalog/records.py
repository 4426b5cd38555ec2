"""The values passed into and returned by the catalog."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class SnapshotInfo:
    """One snapshot as the catalog records it: ``type_status`` maps type to ok/failed/skipped.

    ``changes_only`` lets an incremental backup record only what changed: for each type
    named there, the versions passed hold just the new and changed objects, and the value
    lists the ids removed since ``parent``, which must be the tenant's newest recorded
    snapshot. Every other type passes all of its objects.
    """

    id: str
    tenant: str
    time: datetime
    type_status: Mapping[str, str]
    parent: str | None = None
    changes_only: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def partial(self) -> bool:
        """Whether any type did not back up completely."""
        return any(status != "ok" for status in self.type_status.values())

    def complete_types(self) -> list[str]:
        """Types whose objects were all read, so an absent object was deleted."""
        return sorted(name for name, status in self.type_status.items()
                      if status == "ok" and name not in self.changes_only)


@dataclass(frozen=True, slots=True)
class ObjectVersion:
    """One object in one snapshot: its type, id, content hash and Graph document."""

    type: str
    object_id: str
    version_hash: str
    document: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class VersionRow:
    """A stored version and the range of snapshots in which it is current.

    ``last_snapshot`` is None while the version is still current in the tenant's latest
    snapshot. ``deleted`` says the object disappeared after ``last_snapshot``.
    ``changed_at`` is when the content appeared (``entra_backup.catalog.change_time``).
    """

    tenant: str
    type: str
    object_id: str
    version_hash: str
    first_snapshot: str
    last_snapshot: str | None
    deleted: bool
    deleted_at: datetime | None
    display_name: str | None
    upn: str | None
    mail: str | None
    app_id: str | None
    modified_time: datetime | None
    changed_at: datetime | None = None


SearchHit = VersionRow
"""A search result is a version row: what matched and when it was current."""


@dataclass(frozen=True, slots=True)
class VersionChange:
    """How one object differs between two snapshots: added, changed or removed."""

    type: str
    object_id: str
    change: str
    before_hash: str | None
    after_hash: str | None
