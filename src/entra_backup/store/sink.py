"""Writing blobs: deduplicate, pack, upload packs, then index them.

Blobs already in the index, in the open pack or in an uploaded pack awaiting its index
file are never written again. Packs are uploaded when they reach the pack size; every
``index_every`` packs (and at :meth:`BlobSink.flush`) one index file covering them is
written, and only then do their blobs join the shared in-memory index. So the shared
index never names a blob whose index file is not durable.
"""

from __future__ import annotations

from collections.abc import Callable

from entra_backup.store.backends.base import Backend
from entra_backup.store.blob import BlobCodec, BlobKind, Dictionary
from entra_backup.store.files import pack_name
from entra_backup.store.index import BlobIndex, IndexedPack, write_index_file
from entra_backup.store.pack import PackBuilder

DEFAULT_INDEX_EVERY = 8
"""Packs per index file: about 60,000 small documents, a bounded amount to decode at once."""


class BlobSink:
    """Stores blobs for one writer session."""

    def __init__(
        self,
        backend: Backend,
        codec: BlobCodec,
        index: BlobIndex,
        *,
        pack_size: int,
        guard: Callable[[], None],
        index_every: int = DEFAULT_INDEX_EVERY,
    ) -> None:
        self._backend = backend
        self.codec = codec
        self._index = index
        self._pack_size = pack_size
        self._guard = guard
        self._index_every = index_every
        self._pack: PackBuilder | None = None
        self._pending: set[bytes] = set()
        self._unindexed: list[IndexedPack] = []
        self.new_blobs = 0
        self.new_bytes = 0
        self.written_files: list[str] = []

    def put(
        self, kind: BlobKind, plaintext: bytes, dictionary: Dictionary | None = None
    ) -> bytes:
        """Store a blob unless it exists; return its id."""
        blob_id = self.codec.keys.blob_id(kind, plaintext)
        if self.has(blob_id):
            return blob_id
        return self.put_new(kind, blob_id, plaintext, dictionary)

    def has(self, blob_id: bytes) -> bool:
        """Whether the blob is stored or being stored."""
        return blob_id in self._index or blob_id in self._pending

    def put_new(
        self, kind: BlobKind, blob_id: bytes, plaintext: bytes, dictionary: Dictionary | None
    ) -> bytes:
        """Store a blob known not to exist yet (see :meth:`has`)."""
        if self._pack is None:
            self._pack = PackBuilder(self.codec)
        entry = self._pack.add(kind, blob_id, plaintext, dictionary)
        self._pending.add(blob_id)
        self.new_blobs += 1
        self.new_bytes += entry.length
        if self._pack.size >= self._pack_size:
            self._upload_pack()
        return blob_id

    def flush(self) -> None:
        """Upload the open pack and index every uploaded pack."""
        if self._pack is not None and self._pack.entries:
            self._upload_pack()
        self._write_index()

    def _upload_pack(self) -> None:
        assert self._pack is not None
        finished = self._pack.finish()
        self._pack = None
        self._create(pack_name(finished.pack_id), finished.data)
        self._unindexed.append(IndexedPack(finished.pack_id, finished.salt, finished.entries))
        if len(self._unindexed) >= self._index_every:
            self._write_index()

    def _write_index(self) -> None:
        if not self._unindexed:
            return
        self._guard()
        name = write_index_file(self._backend, self.codec.keys, self._unindexed)
        self.written_files.append(name)
        for pack in self._unindexed:
            self._index.add_pack(pack, all_new=True)
            for entry in pack.entries:
                self._pending.discard(entry.blob_id)
        self._unindexed = []

    def _create(self, name: str, data: bytes) -> None:
        self._guard()
        self._backend.create(name, data)
        self.written_files.append(name)
