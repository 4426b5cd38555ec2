"""Backing up one object type into the snapshot being written.

Three ways, chosen per type and run:

* **full**: a first delta round (or, for types without delta, an enumeration), every
  object stored; also after an expired or reset delta token, a changed ``$select``, a
  changed object filter, or ``--full``;
* **delta**: the saved delta link replayed; only objects whose stored content changed get
  a new version, the rest are carried over by reference from the type's base snapshot;
* a type with per-object reads (app role assignments, scoped role members, certificate
  keys) takes its property changes from delta and re-reads the per-object part of every
  object, since Graph does not change-track it.

Failures are recorded, never raised: a missing permission skips the type (naming the
permission), any other Graph error fails it and carries the base snapshot's copy forward;
either way its delta link is not advanced.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from entra_backup.domain.canonical import canonical_bytes
from entra_backup.domain.documents import delta_relationships, properties_of
from entra_backup.domain.object_types import ObjectType
from entra_backup.graph.client import GraphClient
from entra_backup.graph.delta import is_token_stale
from entra_backup.graph.errors import DeltaTokenExpired, GraphClientError, PermissionDenied
from entra_backup.services.backup.counting import edge_count
from entra_backup.services.backup.per_object import CHUNK, complete_documents, needs_per_object
from entra_backup.services.backup.reading import delta_round, enumerate_type
from entra_backup.services.backup.scope import ObjectFilter
from entra_backup.services.backup.spool import DeltaSpool
from entra_backup.services.backup.versions import VersionLog
from entra_backup.store.blob import BlobKind
from entra_backup.store.errors import ObjectNotFound
from entra_backup.store.repository import Repository
from entra_backup.store.snapshot import Snapshot, TypeStatus
from entra_backup.store.writer import SnapshotWriter

Document = dict[str, Any]


@dataclass
class TypeOutcome:
    """How one type's backup ended, for the snapshot state, the summary and the CLI."""

    name: str
    status: str = "ok"
    mode: str = "full"
    objects: int = 0
    new_versions: int = 0
    removed: int = 0
    message: str | None = None
    delta: dict[str, Any] | None = None
    read: int = 0
    added: int = 0
    modified: int = 0
    relationships: int | None = 0
    """Edges the type's objects hold in the snapshot; None when a delta run cannot tell
    (its base snapshot predates the count)."""
    seconds: float = 0.0


@dataclass
class TypeContext:
    """What every type's backup shares."""

    client: GraphClient
    repo: Repository
    writer: SnapshotWriter
    log: VersionLog
    objects: ObjectFilter
    scope_key: str
    full: bool = False
    on_read: Callable[[str, int], None] = lambda name, count: None
    now: Callable[[], float] = time.time
    bases: dict[str, Snapshot | None] = field(default_factory=dict)


def base_snapshot(repo: Repository, tenant: str, type_name: str) -> Snapshot | None:
    """The newest snapshot of the tenant that stored the type completely."""
    for snapshot in reversed(repo.snapshots(tenant)):
        entry = snapshot.types.get(type_name)
        if entry is not None and entry.status is TypeStatus.OK and entry.manifest is not None:
            return snapshot
    return None


class TypeJob:
    """The backup of one type; :meth:`run` never raises a Graph error."""

    def __init__(self, context: TypeContext, object_type: ObjectType) -> None:
        self.ctx = context
        self.type = object_type
        self.name = object_type.name
        self.base = base_snapshot(context.repo, context.writer.tenant, self.name)
        self.outcome = TypeOutcome(self.name)

    async def run(self) -> TypeOutcome:
        """Back the type up into the writer and say how it went."""
        started = time.monotonic()
        try:
            await self._read()
        except PermissionDenied as exc:
            self._give_up(TypeStatus.SKIPPED, f"missing permission "
                          f"{exc.permission or self.type.read_permission}: {exc.message}")
        except GraphClientError as exc:
            self._give_up(TypeStatus.FAILED, exc.message)
        self.outcome.seconds = time.monotonic() - started
        return self.outcome

    def _give_up(self, status: TypeStatus, message: str) -> None:
        self.ctx.log.discard(self.name)
        carry = self.base
        if status is TypeStatus.SKIPPED:
            self.ctx.writer.skip(self.name, message)
        else:
            self.ctx.writer.fail(self.name, message, carry_forward=carry)
        self.outcome = TypeOutcome(self.name, status.value, "none", message=message,
                                   delta=self._saved_delta(), read=self.outcome.read,
                                   relationships=None)

    def _saved_delta(self) -> dict[str, Any] | None:
        if self.base is None:
            return None
        saved = self.base.state.get("delta", {}).get(self.name)
        return dict(saved) if isinstance(saved, dict) else None

    def _usable_link(self) -> str | None:
        saved = self._saved_delta()
        if self.ctx.full or saved is None:
            return None
        if saved.get("select") != list(self.type.delta_select()):
            return None
        if saved.get("scope") != self.ctx.scope_key:
            return None
        if is_token_stale(float(saved.get("saved_at", 0)), self.ctx.now()):
            return None
        link = saved.get("link")
        if not isinstance(link, str):
            return None
        # A tenant moved to another Graph URL (a national cloud, a proxy) starts its delta
        # afresh rather than following a link the client refuses to send its token to.
        return link if self.ctx.client.transport.on_graph_origin(link) else None

    async def _read(self) -> None:
        if not self.type.delta:
            await self._enumerate()
            return
        link = self._usable_link()
        if link is not None:
            try:
                await self._incremental(link)
                return
            except DeltaTokenExpired:
                self.ctx.log.discard(self.name)
        await self._full_delta()

    def _seen(self, count: int) -> None:
        self.outcome.read += count
        self.ctx.on_read(self.name, count)

    async def _enumerate(self) -> None:
        with DeltaSpool() as spool:
            await enumerate_type(self.ctx.client, self.type, spool, self._seen)
            await self._store_all(self._documents(spool))
        self.outcome.mode = "full"

    async def _full_delta(self) -> None:
        for attempt in range(2):
            with DeltaSpool() as spool:
                try:
                    result = await delta_round(self.ctx.client, self.type, spool, self._seen)
                except DeltaTokenExpired:
                    # A skip token can expire in a very long first round: start it again once.
                    if attempt:
                        raise
                    continue
                await self._store_all(self._documents(spool))
                self._remember(result.delta_link)
                self.outcome.mode = "full"
                return

    def _remember(self, link: str | None) -> None:
        self.outcome.delta = {"link": link, "select": list(self.type.delta_select()),
                              "saved_at": self.ctx.now(), "scope": self.ctx.scope_key}

    def _documents(self, spool: DeltaSpool) -> Iterator[Document]:
        """Stored documents from the spooled items of a first round."""
        for object_id, item in spool.merged():
            if self.ctx.objects.keeps(self.name, object_id):
                yield self._document(item, None)

    def _document(self, item: dict[str, Any], before: Document | None) -> Document:
        """The stored document after a delta item: its properties over the stored ones,
        its ``@delta`` edges applied, per-object relationships kept as stored."""
        document = dict(before or {})
        document.update(properties_of(item))
        document.update(delta_relationships(self.type, item, before))
        return document

    def _in_base(self, object_id: str) -> bool:
        """Whether the base snapshot holds the object (a manifest lookup, no blob read)."""
        entry = None if self.base is None else self.base.types.get(self.name)
        if entry is None or entry.manifest is None:
            return False
        return self.ctx.repo.manifests.lookup(entry.manifest, object_id) is not None

    def _previous(self, object_id: str) -> Document | None:
        if self.base is None:
            return None
        try:
            return self.ctx.repo.get(self.base, self.name, object_id)
        except ObjectNotFound:
            return None

    async def _store_all(self, documents: Iterator[Document]) -> None:
        """Add every document (completing per-object reads a chunk at a time)."""
        self.ctx.writer.start_type(self.name)
        self.ctx.log.changes_only[self.name] = False
        chunk: list[Document] = []
        for document in documents:
            chunk.append(document)
            if len(chunk) >= CHUNK:
                await self._add_chunk(chunk)
                chunk = []
        await self._add_chunk(chunk)

    async def _add_chunk(self, chunk: list[Document]) -> None:
        if needs_per_object(self.type) and chunk:
            chunk = await complete_documents(self.ctx.client, self.type, chunk)
        for document in chunk:
            object_id = str(document["id"])
            if self.ctx.writer.add(self.name, object_id, document) or \
                    self._differs_from_base(object_id, document):
                self.outcome.new_versions += 1
                self._count_new(object_id)
            self.ctx.log.add(self.name, object_id, document)
            self.outcome.objects += 1
            self._count_edges(edge_count(self.type, document))

    def _count_new(self, object_id: str) -> None:
        """A new version is of an added object unless the base snapshot held it."""
        if self._in_base(object_id):
            self.outcome.modified += 1
        else:
            self.outcome.added += 1

    def _count_edges(self, edges: int) -> None:
        if self.outcome.relationships is not None:
            self.outcome.relationships += edges

    def _base_edges(self) -> int | None:
        """The type's edge count in the base snapshot, when that snapshot recorded it."""
        saved = None if self.base is None else \
            self.base.state.get("relationships", {}).get(self.name)
        return saved if isinstance(saved, int) else None

    def _differs_from_base(self, object_id: str, document: Document) -> bool:
        """Whether a document whose content the repository holds already (so the writer
        did not count it as new) is still a new version of the object: it differs from the
        base snapshot's, as when an object changes back to an earlier state. The catalog
        records a new version then, and so does a delta read of the type."""
        entry = None if self.base is None else self.base.types.get(self.name)
        if entry is None or entry.manifest is None:
            return False
        stored = self.ctx.repo.manifests.lookup(entry.manifest, object_id)
        return stored != self.ctx.repo.keys.blob_id(BlobKind.DOCUMENT, canonical_bytes(document))

    async def _incremental(self, link: str) -> None:
        assert self.base is not None
        with DeltaSpool() as spool:
            result = await delta_round(self.ctx.client, self.type, spool, self._seen,
                                       delta_link=link)
            if needs_per_object(self.type):
                await self._store_all(self._merged_with_base(spool))
            else:
                self._store_changes(spool)
            self._remember(result.delta_link)
        self.outcome.mode = "delta"

    def _merged_with_base(self, spool: DeltaSpool) -> Iterator[Document]:
        """The base snapshot's objects with a round's changes applied, in id order."""
        assert self.base is not None
        removed = spool.removed()
        for object_id, before in self.ctx.repo.objects(self.base, self.name):
            if object_id in removed or not self.ctx.objects.keeps(self.name, object_id):
                self.outcome.removed += 1
                continue
            item = spool.get(object_id)
            yield before if item is None else self._document(item, before)
        for object_id, item in spool.merged():
            if not self._in_base(object_id) and self.ctx.objects.keeps(self.name, object_id):
                yield self._document(item, None)

    def _store_changes(self, spool: DeltaSpool) -> None:
        """Record only what changed; the rest is carried over from the base snapshot."""
        assert self.base is not None
        changed: dict[str, Document] = {}
        removed = {object_id for object_id in spool.removed() if self._in_base(object_id)}
        created = edges = 0
        for object_id, item in spool.merged():
            before = self._previous(object_id)
            if not self.ctx.objects.keeps(self.name, object_id):
                if before is not None:
                    removed.add(object_id)
                continue
            document = self._document(item, before)
            if before is not None and canonical_bytes(before) == canonical_bytes(document):
                continue
            changed[object_id] = document
            created += before is None
            edges += edge_count(self.type, document) - edge_count(self.type, before)
        self._write_changes(changed, removed, created)
        base = self._base_edges()
        if base is not None:
            # A removed object's edges leave with it: one read of its stored document each.
            edges -= sum(edge_count(self.type, self._previous(i)) for i in removed)
        self.outcome.relationships = None if base is None else base + edges

    def _write_changes(self, changed: dict[str, Document], removed: set[str],
                       created: int) -> None:
        assert self.base is not None
        entry = self.base.types[self.name]
        self.ctx.log.changes_only[self.name] = True
        if not changed and not removed:
            self.ctx.writer.reuse(self.name, self.base)
        else:
            self.ctx.writer.merge(self.name, self.base, changed, removed)
        for object_id, document in changed.items():
            self.ctx.log.add(self.name, object_id, document)
        self.ctx.log.remove(self.name, removed)
        self.outcome.new_versions = len(changed)
        self.outcome.added = created
        self.outcome.modified = len(changed) - created
        self.outcome.removed = len(removed)
        self.outcome.objects = entry.count - len(removed) + created
