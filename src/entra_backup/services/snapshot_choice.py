"""Choosing a snapshot the way a person names one: an id, a unique id prefix, ``latest``,
or a point in time meaning the last snapshot taken at or before it.

A point in time is ISO 8601 with at least a full date (``2026-11-20``,
``2026-11-20T10:00``, ``2026-11-20T10:00+01:00``). Without an offset it is UTC, like every
time the product prints. A date alone means the end of that day: "the backup of the 20th"
is the last one taken that day. Only the extended form (with dashes) is a point in time;
the basic form ``20261120`` is a valid id prefix and stays one.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time

from entra_backup.domain.errors import UsageError
from entra_backup.store.errors import SnapshotNotFound
from entra_backup.store.repository import Repository
from entra_backup.store.snapshot import Snapshot

_POINT_IN_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}([T ].*)?$")


def is_point_in_time(reference: str) -> bool:
    """Whether ``reference`` names a point in time rather than a snapshot id."""
    return bool(_POINT_IN_TIME.match(reference.strip()))


def parse_point_in_time(reference: str) -> datetime:
    """The moment ``reference`` names, timezone-aware; UsageError if it is no date."""
    text = reference.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{reference!r} is not a date-time (2026-11-20, "
                               "2026-11-20T10:00 or 2026-11-20T10:00+01:00)") from None
    if len(text) == len("2026-11-20"):
        # A date alone: its last instant, so the day's last backup is chosen.
        parsed = datetime.combine(parsed.date(), time.max)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def snapshot_at(repo: Repository, tenant: str, moment: datetime) -> Snapshot:
    """The tenant's last snapshot taken at or before ``moment``."""
    found = repo.snapshots(tenant)
    if not found:
        raise SnapshotNotFound(f"no snapshot of {tenant}")
    earlier = [snapshot for snapshot in found if snapshot.time <= moment]
    if not earlier:
        first = found[0]
        raise SnapshotNotFound(
            f"no snapshot of {tenant} at or before {moment.isoformat()}; the first is "
            f"{first.short_id} at {first.time.isoformat()}")
    return earlier[-1]
