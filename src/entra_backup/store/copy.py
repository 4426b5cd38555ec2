"""Copy a snapshot into another repository: every document re-encrypted under the
destination's keys (its own master key), the snapshot's tenant, time, engine state and the
way each type ended kept. This is how backups move under a new master key.

The copy's id differs (ids are content hashes of files sealed with another key), as do
its ``tool`` and ``hostname`` (those of the copying run). Its parent is the copy of the
source snapshot's parent when that was copied, so manifests stay deltas.
"""

from __future__ import annotations

from collections.abc import Mapping

from entra_backup.store.repository import Repository
from entra_backup.store.snapshot import Snapshot, TypeStatus
from entra_backup.store.writer import SnapshotWriter


def copy_snapshot(source: Repository, snapshot: Snapshot, destination: Repository,
                  copies: Mapping[str, Snapshot]) -> Snapshot:
    """Write ``snapshot`` of ``source`` into ``destination``; ``copies`` maps source
    snapshot ids copied before to their copies (for the parent and ``reused_from``)."""
    parent = copies.get(snapshot.parent) if snapshot.parent else None
    with destination.writer(snapshot.tenant, parent=parent,
                            clock=lambda: snapshot.time) as writer:
        writer.state = dict(snapshot.state)
        for type_name in snapshot.types:
            _copy_type(source, snapshot, writer, type_name, copies)
        return writer.commit()


def _copy_type(source: Repository, snapshot: Snapshot, writer: SnapshotWriter,
               type_name: str, copies: Mapping[str, Snapshot]) -> None:
    entry = snapshot.types[type_name]
    if entry.manifest is None:
        if entry.status is TypeStatus.SKIPPED:
            writer.skip(type_name, entry.message or "")
        elif entry.status is TypeStatus.FAILED:
            writer.fail(type_name, entry.message or "")
        else:
            writer.start_type(type_name)
        return
    writer.start_type(type_name)
    for object_id, document in source.objects(snapshot, type_name, order="storage"):
        writer.add(type_name, object_id, document)
    reused = copies.get(entry.reused_from) if entry.reused_from else None
    writer.keep_outcome(type_name, entry, None if reused is None else reused.id)
