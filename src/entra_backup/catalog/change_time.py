"""When each version's content appeared (``object_versions.changed_at``).

Users and groups carry no modification time in Graph, only ``createdDateTime``, so the
catalog's ``modified_time`` of a user changed long after its creation is still its
creation time. A version's change time is therefore:

* its ``modified_time`` when that is new with this version (a real
  ``lastModifiedDateTime`` that moved, or the creation time of an object's first
  version), and
* otherwise the time of the first snapshot that holds the version: the change happened
  between the previous snapshot and that one, and that snapshot is when it was seen.

The same expression fills new versions as a snapshot is recorded (inside the insert, so
no second pass over them) and every version of an existing catalog in migration 0003, so
a rebuilt catalog gives the same answers.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Update, and_, case, exists, select, update

from entra_backup.catalog.models import object_versions as ov
from entra_backup.catalog.models import snapshots


def change_time(tenant_id: Any, type_: Any, object_id: Any, *, modified: Any, seq: Any,
                seen: Any) -> Any:
    """The change time of a version of (tenant, type, object id) first held by snapshot
    ``seq`` taken at ``seen``, whose modified time is ``modified`` (SQL expressions)."""
    earlier = ov.alias("earlier")
    same_time_before = exists().where(
        earlier.c.tenant_id == tenant_id, earlier.c.type == type_,
        earlier.c.object_id == object_id, earlier.c.first_seq < seq,
        earlier.c.modified_time == modified)
    return case((and_(modified.is_not(None), ~same_time_before), modified), else_=seen)


def fill_change_times() -> Update:
    """The statement that sets ``changed_at`` of every recorded version (migration 0003)."""
    first_seen = (select(snapshots.c.time).where(snapshots.c.seq == ov.c.first_seq)
                  .scalar_subquery())
    return update(ov).values(changed_at=change_time(
        ov.c.tenant_id, ov.c.type, ov.c.object_id, modified=ov.c.modified_time,
        seq=ov.c.first_seq, seen=first_seen))
