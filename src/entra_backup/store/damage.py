"""Damage markers: what ``check --read-data`` found damaged, recorded in the repository.

A marker file ``damaged/<sha256>`` is a sealed file (magic ``EBDM``) whose body is::

    {"version": 1, "blobs": [[pack id, blob id, reason], ...]}

It lives in the repository, not on the machine that ran ``check``, so every client sees
it: the index loaded by :class:`~.repository.Repository` leaves each marked (pack, blob)
location out. A backup then finds the blob absent and stores it again from Graph (a
``--full`` backup re-reads every object), and the new copy in another pack is used from
then on. Markers name a location, not a blob id, so that the good copy is never excluded.
A marker that does not open is ignored (``check`` reports it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import orjson

from entra_backup.store.backends.base import Backend, NotFound
from entra_backup.store.crypto import RepositoryKeys
from entra_backup.store.errors import IntegrityError
from entra_backup.store.files import content_name, open_file, seal_file

DAMAGE_PREFIX = "damaged/"
DAMAGE_MAGIC = b"EBDM"
_VERSION = 1

Location = tuple[str, bytes]
"""(pack id, blob id)."""


@dataclass
class DamageMarks:
    """Every marked location with its reason, and marker files that did not open."""

    blobs: dict[Location, str] = field(default_factory=dict)
    unreadable: dict[str, str] = field(default_factory=dict)

    @property
    def blob_ids(self) -> set[bytes]:
        """The ids of every marked blob (whatever the pack)."""
        return {blob_id for _, blob_id in self.blobs}


def record_damage(backend: Backend, keys: RepositoryKeys,
                  found: Iterable[tuple[str, bytes, str]]) -> str | None:
    """Write one marker file for ``found`` (pack id, blob id, reason); None if empty."""
    rows = sorted([pack_id, blob_id.hex(), reason] for pack_id, blob_id, reason in found)
    if not rows:
        return None
    data = seal_file(keys, DAMAGE_MAGIC, orjson.dumps({"version": _VERSION, "blobs": rows}))
    name = DAMAGE_PREFIX + content_name(data)
    backend.create(name, data)
    return name


def load_damage(backend: Backend, keys: RepositoryKeys) -> DamageMarks:
    """Every marker in the repository."""
    marks = DamageMarks()
    for info in sorted(backend.list(DAMAGE_PREFIX), key=lambda item: item.name):
        try:
            body = open_file(keys, DAMAGE_MAGIC, backend.read(info.name), info.name)
            document = orjson.loads(body)
            for pack_id, blob_hex, reason in document["blobs"]:
                marks.blobs[(str(pack_id), bytes.fromhex(blob_hex))] = str(reason)
        except NotFound:
            continue
        except IntegrityError as exc:
            marks.unreadable[info.name] = exc.message
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            marks.unreadable[info.name] = f"{info.name} is malformed: {exc}"
    return marks
