"""``copy``: every snapshot of one repository into another (typically a new one made with
``init`` under a new master key), oldest first.

A snapshot the destination holds already (same tenant and time) is not copied again, so an
interrupted copy resumes where it stopped. The source is only read; the destination takes
its own lock for each snapshot it writes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from entra_backup.domain.errors import UsageError
from entra_backup.store.copy import copy_snapshot
from entra_backup.store.repository import Repository
from entra_backup.store.snapshot import Snapshot


@dataclass(frozen=True, slots=True)
class CopiedSnapshot:
    """One source snapshot and its copy in the destination."""

    source: Snapshot
    copy: Snapshot
    existed: bool
    """Whether the destination held it already (an earlier, interrupted copy)."""

    def as_json(self) -> dict[str, Any]:
        """The entry for ``--json``: both ids, the tenant and the time."""
        return {"source": self.source.id, "copy": self.copy.id, "tenant": self.source.tenant,
                "time": self.source.time.isoformat(), "existed": self.existed}


def copy_repository(source: Repository, destination: Repository,
                    progress: Callable[[CopiedSnapshot], None] | None = None,
                    ) -> list[CopiedSnapshot]:
    """Copy every readable snapshot of ``source`` that ``destination`` lacks."""
    if source.id == destination.id:
        raise UsageError("the destination is the source repository itself")
    present = {(item.tenant, item.time): item for item in destination.snapshots()}
    copies: dict[str, Snapshot] = {}
    done = []
    for snapshot in source.snapshots():
        existing = present.get((snapshot.tenant, snapshot.time))
        copied = existing or copy_snapshot(source, snapshot, destination, copies)
        copies[snapshot.id] = copied
        done.append(CopiedSnapshot(snapshot, copied, existing is not None))
        if progress is not None:
            progress(done[-1])
    return done
