"""When each version's content appeared (``object_versions.changed_at``).

Users and groups carry no modification time in Graph, only ``createdDateTime``, so the
catalog's ``modified_time`` of a user changed long after its creation is still its
creation time. A version's change time is therefore:

* its ``modified_time`` when that is new with this version (a real
  ``lastModifiedDateTime`` that moved, or the creation time of an object's first
  version), and
* otherwise the time of the first snapshot that holds the version: the change happened
  between the previous snapshot and that one, and that snapshot is when it was seen.

The same statement fills new versions as a snapshot is recorded and every version of an
existing catalog in migration 0003, so a rebuilt catalog gives the same answers.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Update, and_, exists, select, update

from entra_backup.catalog.models import object_versions as ov
from entra_backup.catalog.models import snapshots


def fill_change_times(*conditions: Any) -> list[Update]:
    """Statements that set ``changed_at`` of the versions matching ``conditions``."""
    earlier = ov.alias("earlier")
    same_time_before = exists().where(
        earlier.c.tenant_id == ov.c.tenant_id, earlier.c.type == ov.c.type,
        earlier.c.object_id == ov.c.object_id, earlier.c.first_seq < ov.c.first_seq,
        earlier.c.modified_time == ov.c.modified_time)
    first_seen = (select(snapshots.c.time).where(snapshots.c.seq == ov.c.first_seq)
                  .scalar_subquery())
    return [
        update(ov).where(*conditions).values(changed_at=first_seen),
        update(ov).where(and_(*conditions), ov.c.modified_time.is_not(None), ~same_time_before)
        .values(changed_at=ov.c.modified_time),
    ]
