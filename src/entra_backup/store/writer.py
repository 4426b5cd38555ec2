"""The snapshot writer: the engine streams documents in, ``commit`` makes them a snapshot.

Write order of a commit (why it is crash-safe is in ``docs/repository-format.md``):

1. document blobs go into packs as they are added (a pack is uploaded when full);
2. at commit, each type's manifest chunks and manifest are stored the same way;
3. the last pack is uploaded, then the index file(s) naming every new pack;
4. the snapshot file is written last.

A crash before step 4 leaves only unreferenced packs and index files, which ``prune``
removes; a snapshot file is only ever written when everything it references is durable.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

from entra_backup import __version__
from entra_backup.domain.canonical import canonical_bytes
from entra_backup.store.blob import BlobCodec, BlobKind, Dictionary, train_dictionary
from entra_backup.store.errors import WriterError
from entra_backup.store.files import SNAPSHOT_MAGIC, SNAPSHOT_PREFIX, content_name, seal_file
from entra_backup.store.manifest import Manifest, write_manifest
from entra_backup.store.sink import BlobSink
from entra_backup.store.snapshot import Snapshot, TypeEntry, TypeStatus
from entra_backup.store.sorter import DEFAULT_BUFFER, Entry, EntrySorter

if TYPE_CHECKING:
    from entra_backup.store.lock import RepositoryLock
    from entra_backup.store.repository import Repository

TOOL = f"entra-backup {__version__}"


TRAIN_SAMPLES = 1000
"""Documents of a type buffered to train its compression dictionary."""
MIN_TRAIN_SAMPLES = 64
DICTIONARY_SIZE = 32 * 1024


@dataclass
class _TypeState:
    sorter: EntrySorter
    logical_bytes: int = 0
    entry: TypeEntry | None = None
    dictionary: Dictionary | None = None
    training: dict[bytes, bytes] | None = None
    outcome: dict[str, Any] = field(default_factory=dict)
    """Fields of the finished entry kept from another snapshot (``keep_outcome``)."""


@dataclass
class CommitStats:
    """What a commit added to the repository."""

    new_blobs: int = 0
    new_bytes: int = 0
    files: list[str] = field(default_factory=list)


class SnapshotWriter:
    """Collects one tenant's documents per object type and commits them as a snapshot."""

    def __init__(
        self,
        repo: Repository,
        tenant: str,
        *,
        parent: Snapshot | None,
        lock: RepositoryLock,
        owns_lock: bool,
        sort_buffer: int = DEFAULT_BUFFER,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._repo = repo
        self.tenant = tenant
        self.parent = parent
        self._lock = lock
        self._owns_lock = owns_lock
        self._sort_buffer = sort_buffer
        self._clock = clock
        self._types: dict[str, _TypeState] = {}
        self._sink = BlobSink(
            repo.backend,
            BlobCodec(repo.keys, repo.load_dictionary),
            repo.index,
            pack_size=repo.config.pack_size,
            guard=lock.ensure_held,
            index_every=repo.index_every,
        )
        self._closed = False
        self.stats = CommitStats()
        self.state: dict[str, Any] = {}
        """Engine state committed with the snapshot (``Snapshot.state``)."""

    def __enter__(self) -> SnapshotWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if not self._closed:
            self.abort()

    def start_type(self, type_name: str) -> None:
        """Declare a type as backed up, even if it turns out to hold no objects."""
        self._state(type_name)

    def add(self, type_name: str, object_id: str, document: Mapping[str, Any]) -> bool:
        """Store one object's document (any order; each id once per type).

        Returns whether its content is new to the repository (a new version).
        """
        state = self._state(type_name)
        plaintext = canonical_bytes(document)
        blob_id = self._repo.keys.blob_id(BlobKind.DOCUMENT, plaintext)
        state.sorter.add(object_id, blob_id)
        state.logical_bytes += len(plaintext)
        if self._sink.has(blob_id) or (state.training is not None
                                       and blob_id in state.training):
            return False
        if state.training is None:
            self._sink.put_new(BlobKind.DOCUMENT, blob_id, plaintext, state.dictionary)
            return True
        state.training[blob_id] = plaintext
        if len(state.training) >= TRAIN_SAMPLES:
            self._train(state)
        return True

    def reuse(self, type_name: str, previous: Snapshot) -> None:
        """Record a type as unchanged since ``previous``: its manifest is shared."""
        entry = self._previous_entry(type_name, previous)
        self._replace(type_name, TypeEntry(
            TypeStatus.OK, entry.count, entry.logical_bytes, entry.manifest,
            reused_from=previous.id, dictionary=entry.dictionary,
        ))

    def merge(self, type_name: str, previous: Snapshot,
              changed: Mapping[str, Mapping[str, Any]], removed: Collection[str]) -> None:
        """Store a type as ``previous`` held it, with ``changed`` objects added or replaced
        and ``removed`` ones left out.

        Unchanged objects are carried over by reference, without reading their blobs, so an
        incremental backup costs one pass over the previous manifest plus the changes.
        """
        entry = self._previous_entry(type_name, previous)
        assert entry.manifest is not None
        state = self._state(type_name)
        dropped: list[bytes] = []
        for object_id, blob_id in self._repo.manifests.entries(entry.manifest):
            if object_id in changed or object_id in removed:
                dropped.append(blob_id)
            else:
                state.sorter.add(object_id, blob_id)
        old_bytes = sum(len(plaintext) for plaintext in
                        self._repo.reader.read_many(BlobKind.DOCUMENT, dropped))
        state.logical_bytes += entry.logical_bytes - old_bytes
        for object_id, document in changed.items():
            self.add(type_name, object_id, document)

    def fail(self, type_name: str, error: str, *, carry_forward: Snapshot | None = None) -> None:
        """Record that backing up a type failed; optionally keep an earlier snapshot's copy."""
        entry = TypeEntry(TypeStatus.FAILED, message=error)
        if carry_forward is not None:
            old = self._previous_entry(type_name, carry_forward)
            entry = TypeEntry(TypeStatus.FAILED, old.count, old.logical_bytes, old.manifest,
                              message=error, reused_from=carry_forward.id,
                              dictionary=old.dictionary)
        self._replace(type_name, entry)

    def keep_outcome(self, type_name: str, entry: TypeEntry, reused_from: str | None) -> None:
        """Give the type, once its objects are added, ``entry``'s status, message and lost
        ids (a copy of a snapshot into another repository keeps how each type ended)."""
        self._state(type_name).outcome = {"status": entry.status, "message": entry.message,
                                          "lost": entry.lost, "reused_from": reused_from}

    def skip(self, type_name: str, reason: str) -> None:
        """Record that a type was deliberately not backed up."""
        self._replace(type_name, TypeEntry(TypeStatus.SKIPPED, message=reason))

    def commit(self) -> Snapshot:
        """Write manifests, packs, index and finally the snapshot file; return it."""
        self._check_open()
        try:
            types = {name: self._finish_type(name, state) for name, state in self._types.items()}
            self._sink.flush()
            snapshot = self._write_snapshot(types)
        except BaseException:
            self.abort()
            raise
        self._close()
        return snapshot

    def abort(self) -> None:
        """Give up: nothing becomes a snapshot; uploaded packs are left for ``prune``."""
        self._close()

    def _state(self, type_name: str) -> _TypeState:
        self._check_open()
        state = self._types.get(type_name)
        if state is None:
            state = _TypeState(EntrySorter(type_name, self._sort_buffer))
            state.dictionary = self._known_dictionary(type_name)
            if state.dictionary is None:
                state.training = {}
            self._types[type_name] = state
        elif state.entry is not None:
            raise WriterError(f"type {type_name!r} was already marked {state.entry.status}")
        return state

    def _replace(self, type_name: str, entry: TypeEntry) -> None:
        self._check_open()
        old = self._types.get(type_name)
        if old is not None:
            old.sorter.close()
        self._types[type_name] = _TypeState(EntrySorter(type_name, 1), entry=entry)

    def _known_dictionary(self, type_name: str) -> Dictionary | None:
        entry = None if self.parent is None else self.parent.types.get(type_name)
        if entry is None or entry.dictionary is None:
            return None
        return self._sink.codec.dictionary(entry.dictionary)

    def _train(self, state: _TypeState) -> None:
        """Train the type's dictionary on the buffered documents, then store them."""
        assert state.training is not None
        buffered, state.training = state.training, None
        if len(buffered) >= MIN_TRAIN_SAMPLES:
            data = train_dictionary(list(buffered.values()), DICTIONARY_SIZE)
            if data is not None:
                dictionary_id = self._sink.put(BlobKind.DICTIONARY, data)
                state.dictionary = Dictionary(dictionary_id, data)
        for blob_id, plaintext in buffered.items():
            if not self._sink.has(blob_id):
                self._sink.put_new(BlobKind.DOCUMENT, blob_id, plaintext, state.dictionary)

    def _previous_entry(self, type_name: str, previous: Snapshot) -> TypeEntry:
        entry = previous.types.get(type_name)
        if entry is None or entry.manifest is None:
            raise WriterError(
                f"snapshot {previous.short_id} has no stored copy of type {type_name!r}"
            )
        return entry

    def _finish_type(self, type_name: str, state: _TypeState) -> TypeEntry:
        if state.entry is not None:
            return state.entry
        if state.training is not None:
            self._train(state)
        manifest_id = write_manifest(
            self._sink.put, state.sorter.sorted_entries, len(state.sorter),
            self._delta_base(type_name),
        )
        dictionary = None if state.dictionary is None else state.dictionary.blob_id
        entry = TypeEntry(TypeStatus.OK, len(state.sorter), state.logical_bytes, manifest_id,
                          dictionary=dictionary)
        return replace(entry, **state.outcome)

    def _delta_base(self, type_name: str) -> tuple[Manifest, Callable[[], Iterator[Entry]]] | None:
        entry = None if self.parent is None else self.parent.types.get(type_name)
        if entry is None or entry.manifest is None:
            return None
        manifests = self._repo.manifests
        parent_manifest = manifests.manifest(entry.manifest)
        full = parent_manifest if parent_manifest.base is None else manifests.manifest(
            parent_manifest.base
        )
        return full, lambda: manifests.entries(full.blob_id)

    def _write_snapshot(self, types: dict[str, TypeEntry]) -> Snapshot:
        snapshot = Snapshot(
            tenant=self.tenant,
            time=self._clock(),
            tool=TOOL,
            hostname=socket.gethostname(),
            parent=None if self.parent is None else self.parent.id,
            types=types,
            state=self.state,
        )
        data = seal_file(self._repo.keys, SNAPSHOT_MAGIC, snapshot.encode())
        snapshot_id = content_name(data)
        self._lock.ensure_held()
        self._repo.backend.create(SNAPSHOT_PREFIX + snapshot_id, data)
        self.stats = CommitStats(
            self._sink.new_blobs, self._sink.new_bytes,
            [*self._sink.written_files, SNAPSHOT_PREFIX + snapshot_id],
        )
        stored = replace(snapshot, id=snapshot_id)
        self._repo.remember_snapshot(stored)
        return stored

    def _check_open(self) -> None:
        if self._closed:
            raise WriterError("this snapshot writer was committed or aborted already")

    def _close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._repo.note_index_files(self._sink.written_files)
        for state in self._types.values():
            state.sorter.close()
        if self._owns_lock:
            self._lock.release()
