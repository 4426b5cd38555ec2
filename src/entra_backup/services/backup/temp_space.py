"""Free space in ``TMPDIR`` checked before a backup starts, against a measured estimate.

A backup spools each type's Graph round to a temporary SQLite file (``spool.py``) and
the versions for the catalog to another (``versions.py``). A full read of a tenant needs
about :data:`BYTES_PER_OBJECT` of temporary space per object at its peak (types run four
at a time; ``docs/backup.md``, "Temporary space", has the measurement); a delta read
needs only its changes, but a type whose delta link expired is read in full again.

So, with the newest snapshot's object count ``n`` (none on a first backup):

* the estimate is ``max(FLOOR, n * BYTES_PER_OBJECT)``;
* a run that reads everything (a first backup, ``--full``) is refused when the free space
  is below the estimate, and warned about below twice the estimate;
* an incremental run is refused only below :data:`FLOOR` (it would fail on its first
  spool), and warned about below the estimate.

The check is a forecast, not a guarantee: a tenant that grew since its last snapshot, or
another program filling the disk meanwhile, can still fill it; the run then stops with
:class:`DiskFull` and writes nothing.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from entra_backup.domain.errors import DiskFull, format_bytes

BYTES_PER_OBJECT = 2_100
"""Peak temporary bytes per object of a full read (measured: 42.9 MB for 20,911)."""
FLOOR = 4_000_000
"""Below this much free space no backup starts: the first spools would not fit."""


@dataclass(frozen=True)
class SpaceCheck:
    """The outcome of the check: the folder, the estimate, and a warning when tight."""

    folder: Path
    estimate: int
    free: int
    warning: str | None = None


def temp_folder() -> Path:
    """Where spools go: ``TMPDIR`` (or the platform's default temporary folder)."""
    return Path(tempfile.gettempdir())


def check_temp_space(objects: int | None, *, full: bool,
                     folder: Path | None = None) -> SpaceCheck:
    """Refuse (DiskFull) or warn when ``folder`` cannot hold a backup's spools.

    ``objects`` is the newest snapshot's object count, None without a snapshot; ``full``
    says whether every type is read in full (then the whole estimate is needed).
    """
    folder = folder or temp_folder()
    estimate = max(FLOOR, (objects or 0) * BYTES_PER_OBJECT)
    free = shutil.disk_usage(folder).free
    required = estimate if full or objects is None else FLOOR
    if free < required:
        raise DiskFull(f"{folder} (TMPDIR)", doing=_doing(objects, full), needed=required,
                       free=free)
    comfortable = 2 * estimate if full or objects is None else estimate
    warning = None
    if free < comfortable:
        warning = (f"{folder} (TMPDIR) has {format_bytes(free)} free; a full read of "
                   f"{_tenant(objects)} needs about {format_bytes(estimate)} of temporary "
                   "space, so this backup may run out (TMPDIR may name a larger folder)")
    return SpaceCheck(folder, estimate, free, warning)


def _doing(objects: int | None, full: bool) -> str:
    if objects is None:
        return "starting a first backup"
    return f"a {'full' if full else 'delta'} backup of {_tenant(objects)}"


def _tenant(objects: int | None) -> str:
    return "this tenant" if objects is None else f"{objects:,} objects"
