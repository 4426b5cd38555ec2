"""The live side of a restore plan: the tenant read by the backup engine into a throwaway
repository, so a live document has exactly the shape of a stored one, its recycle bin,
and a digest per type so that a saved plan is refused once the tenant changed."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from entra_backup.catalog.fields import version_hash
from entra_backup.domain.canonical import canonical_bytes
from entra_backup.domain.object_types import TYPES, ObjectType
from entra_backup.graph.client import GraphClient
from entra_backup.graph.errors import PermissionDenied
from entra_backup.services.live_tenant import read_live_tenant
from entra_backup.store.errors import ObjectNotFound
from entra_backup.store.repository import Repository
from entra_backup.store.snapshot import Snapshot

Document = dict[str, Any]


class DocumentSource(Protocol):
    """Stored-shape documents per type: a snapshot, or the live tenant read like one."""

    def objects(self, type_name: str) -> Iterator[tuple[str, Document]]:
        """The type's objects in id order (none when the type is not held)."""
        ...

    def get(self, type_name: str, object_id: str) -> Document | None:
        """One object, or None."""
        ...


@dataclass(frozen=True)
class SnapshotDocuments:
    """A :class:`DocumentSource` over one snapshot of a repository."""

    repo: Repository
    snapshot: Snapshot

    def holds(self, type_name: str) -> bool:
        entry = self.snapshot.types.get(type_name)
        return entry is not None and entry.manifest is not None

    def objects(self, type_name: str) -> Iterator[tuple[str, Document]]:
        if not self.holds(type_name):
            return iter(())
        return self.repo.objects(self.snapshot, type_name)

    def get(self, type_name: str, object_id: str) -> Document | None:
        if not self.holds(type_name):
            return None
        try:
            return self.repo.get(self.snapshot, type_name, object_id)
        except ObjectNotFound:
            return None


@dataclass
class LiveTenant:
    """The live side of a plan: documents, the recycle bin and the per-type digests."""

    documents: DocumentSource
    recycle_bin: dict[str, dict[str, Document]] = field(default_factory=dict)
    """Type -> id -> the deleted item (id, displayName, deletedDateTime, natural keys)."""
    state: dict[str, str] = field(default_factory=dict)
    """Type -> :func:`live_digest` of its live documents."""


def live_digest(objects: Iterable[tuple[str, Mapping[str, Any]]]) -> str:
    """SHA-256 (hex) of the sorted (id, version hash) pairs of a type's live documents."""
    pairs = sorted((object_id, version_hash(document)) for object_id, document in objects)
    return hashlib.sha256(canonical_bytes([list(pair) for pair in pairs])).hexdigest()


def _bin_select(object_type: ObjectType) -> str:
    keys = [key for natural in object_type.natural_keys for key in natural]
    return ",".join(dict.fromkeys(["id", "displayName", "deletedDateTime", *keys]))


async def read_recycle_bin(client: GraphClient, object_type: ObjectType
                           ) -> dict[str, Document]:
    """The type's soft-deleted objects by id (``GET /directory/deletedItems/<cast>``)."""
    if not object_type.soft_delete:
        return {}
    found: dict[str, Document] = {}
    async for item in client.iterate(f"/directory/deletedItems/{object_type.entity_type}",
                                     {"$select": _bin_select(object_type), "$top": "999"},
                                     permission=object_type.read_permission):
        if isinstance(item.get("id"), str):
            found[item["id"]] = item
    return found


async def read_live(client: GraphClient, snapshot: Snapshot,
                    types: Iterable[ObjectType]) -> LiveTenant:
    """The live tenant for ``types``, read by the backup engine under the snapshot's scope
    (so an object filter of the tenant applies alike), with the digests of ``types`` and
    the recycle bin of every soft-deletable type (edges to deleted objects are left out
    even when their type is not restored)."""
    chosen = tuple(types)
    live_repo, live_snapshot = await read_live_tenant(client, snapshot,
                                                      (t.name for t in chosen))
    documents = SnapshotDocuments(live_repo, live_snapshot)
    live = LiveTenant(documents)
    for object_type in chosen:
        live.state[object_type.name] = live_digest(documents.objects(object_type.name))
    selected = {t.name for t in chosen}
    for object_type in TYPES:
        if not object_type.soft_delete:
            continue
        try:
            live.recycle_bin[object_type.name] = await read_recycle_bin(client, object_type)
        except PermissionDenied:
            # Other types' bins only tell which edge targets are deleted; without the
            # permission to read one, its targets are taken as live.
            if object_type.name in selected:
                raise
    return live

