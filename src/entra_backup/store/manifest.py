"""Manifests: the sorted list of one object type's objects in a snapshot.

A manifest blob (kind MANIFEST) is canonical JSON::

    {"version": 1, "base": null | manifest id, "count": objects,
     "chunks": [{"id": chunk id, "first": object id, "last": object id, "count": n}]}

and each chunk blob (kind CHUNK) is a JSON list of ``[object id, blob id]`` pairs sorted
by object id. A *full* manifest (``base`` null) lists every object. A *delta* manifest
lists only the pairs that differ from its full ``base``: changed or added objects, and
``[object id, null]`` for removed ones. Deltas are always against a full manifest (depth
one); when a delta would exceed :data:`DELTA_LIMIT` of the base (and a chunk's worth of
entries), a full manifest is written instead; with no change at all the base is reused.
So a snapshot in which 1% of a type changed stores about 1% of its manifest, and an
unchanged type produces byte-identical blobs that deduplicate to nothing.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TypeVar

from entra_backup.domain.canonical import NotCanonicalisable, canonical_bytes, parse_json
from entra_backup.store.blob import BlobKind
from entra_backup.store.errors import CorruptBlob
from entra_backup.store.sorter import Entry

CHUNK_ENTRIES = 2000
DELTA_LIMIT = 0.25
_VERSION = 1

PutBlob = Callable[[BlobKind, bytes], bytes]
GetBlob = Callable[[BlobKind, bytes], bytes]
DeltaEntry = tuple[str, bytes | None]
_K = TypeVar("_K")
_V = TypeVar("_V")


@dataclass(frozen=True, slots=True)
class ChunkRef:
    """One chunk of a manifest and the range of object ids in it."""

    blob_id: bytes
    first: str
    last: str
    count: int


@dataclass(frozen=True)
class Manifest:
    """A decoded manifest blob."""

    blob_id: bytes
    base: bytes | None
    count: int
    chunks: list[ChunkRef]

    @cached_property
    def firsts(self) -> list[str]:
        """The first object id of each chunk, for binary search."""
        return [chunk.first for chunk in self.chunks]


def write_manifest(
    put: PutBlob,
    entries: Callable[[], Iterator[Entry]],
    count: int,
    base: tuple[Manifest, Callable[[], Iterator[Entry]]] | None,
) -> bytes:
    """Store a manifest for the sorted ``entries`` and return its blob id.

    ``entries`` is called once or twice (it must restart the stream each time); ``base``
    is the full manifest to write a delta against, with a function streaming its entries.
    """
    if base is not None:
        base_manifest, base_entries = base
        limit = max(CHUNK_ENTRIES, int(DELTA_LIMIT * base_manifest.count))
        changes = sum(1 for _ in _diff(entries(), base_entries()))
        if changes == 0:
            return base_manifest.blob_id
        if changes <= limit:
            delta = _diff(entries(), base_entries())
            return _store(put, delta, count, base_manifest.blob_id)
    return _store(put, entries(), count, None)


def _store(put: PutBlob, rows: Iterable[DeltaEntry], count: int, base: bytes | None) -> bytes:
    chunks: list[dict[str, object]] = []
    batch: list[list[str | None]] = []
    for object_id, blob_id in rows:
        batch.append([object_id, None if blob_id is None else blob_id.hex()])
        if len(batch) == CHUNK_ENTRIES:
            chunks.append(_store_chunk(put, batch))
            batch = []
    if batch:
        chunks.append(_store_chunk(put, batch))
    document = {
        "version": _VERSION,
        "base": None if base is None else base.hex(),
        "count": count,
        "chunks": chunks,
    }
    return put(BlobKind.MANIFEST, canonical_bytes(document))


def _store_chunk(put: PutBlob, batch: list[list[str | None]]) -> dict[str, object]:
    chunk_id = put(BlobKind.CHUNK, canonical_bytes(batch))
    return {"id": chunk_id.hex(), "first": batch[0][0], "last": batch[-1][0], "count": len(batch)}


def _diff(new: Iterator[Entry], base: Iterator[Entry]) -> Iterator[DeltaEntry]:
    """Pairs of ``new`` that differ from ``base``, and removals, in object id order."""
    left = next(new, None)
    right = next(base, None)
    while left is not None or right is not None:
        if right is None or (left is not None and left[0] < right[0]):
            assert left is not None
            yield left
            left = next(new, None)
        elif left is None or right[0] < left[0]:
            yield right[0], None
            right = next(base, None)
        else:
            if left[1] != right[1]:
                yield left
            left, right = next(new, None), next(base, None)


class ManifestReader:
    """Reads manifests and chunks through a blob loader, caching the recent ones."""

    def __init__(self, get: GetBlob, cache_chunks: int = 8) -> None:
        self._get = get
        self._manifests: OrderedDict[bytes, Manifest] = OrderedDict()
        self._chunks: OrderedDict[bytes, list[DeltaEntry]] = OrderedDict()
        self._cache_size = cache_chunks

    def manifest(self, blob_id: bytes) -> Manifest:
        """Decode a manifest blob."""
        cached = self._manifests.get(blob_id)
        if cached is not None:
            return cached
        try:
            document = parse_json(self._get(BlobKind.MANIFEST, blob_id))
            manifest = Manifest(
                blob_id,
                None if document["base"] is None else bytes.fromhex(document["base"]),
                int(document["count"]),
                [
                    ChunkRef(bytes.fromhex(c["id"]), str(c["first"]), str(c["last"]), c["count"])
                    for c in document["chunks"]
                ],
            )
        except (NotCanonicalisable, KeyError, TypeError, ValueError) as exc:
            raise CorruptBlob(f"manifest {blob_id.hex()} is malformed: {exc}") from exc
        _remember(self._manifests, blob_id, manifest, self._cache_size)
        return manifest

    def chunk(self, blob_id: bytes) -> list[DeltaEntry]:
        """Decode a chunk blob into ``(object id, blob id or None)`` pairs."""
        cached = self._chunks.get(blob_id)
        if cached is not None:
            return cached
        try:
            rows = parse_json(self._get(BlobKind.CHUNK, blob_id))
            entries = [(str(r[0]), None if r[1] is None else bytes.fromhex(r[1])) for r in rows]
        except (NotCanonicalisable, TypeError, ValueError, IndexError) as exc:
            raise CorruptBlob(f"manifest chunk {blob_id.hex()} is malformed: {exc}") from exc
        _remember(self._chunks, blob_id, entries, self._cache_size)
        return entries

    def entries(self, manifest_id: bytes) -> Iterator[Entry]:
        """The objects of a manifest (a delta applied to its base) in object id order."""
        manifest = self.manifest(manifest_id)
        if manifest.base is None:
            for object_id, blob_id in self._rows(manifest):
                assert blob_id is not None
                yield object_id, blob_id
            return
        yield from _apply(self._rows(self.manifest(manifest.base)), self._rows(manifest))

    def lookup(self, manifest_id: bytes, object_id: str) -> bytes | None:
        """The blob id of one object, or None if the manifest does not hold it."""
        manifest = self.manifest(manifest_id)
        found, blob_id = self._find(manifest, object_id)
        if manifest.base is None or found:
            return blob_id
        return self._find(self.manifest(manifest.base), object_id)[1]

    def structure(self, manifest_id: bytes) -> Iterator[tuple[BlobKind, bytes]]:
        """The manifest, base and chunk blobs a manifest needs."""
        manifest = self.manifest(manifest_id)
        yield BlobKind.MANIFEST, manifest_id
        for chunk in manifest.chunks:
            yield BlobKind.CHUNK, chunk.blob_id
        if manifest.base is not None:
            yield from self.structure(manifest.base)

    def _rows(self, manifest: Manifest) -> Iterator[DeltaEntry]:
        for chunk in manifest.chunks:
            yield from self.chunk(chunk.blob_id)

    def _find(self, manifest: Manifest, object_id: str) -> tuple[bool, bytes | None]:
        position = bisect.bisect_right(manifest.firsts, object_id) - 1
        if position < 0 or manifest.chunks[position].last < object_id:
            return False, None
        rows = self.chunk(manifest.chunks[position].blob_id)
        index = bisect.bisect_left(rows, object_id, key=lambda row: row[0])
        if index < len(rows) and rows[index][0] == object_id:
            return True, rows[index][1]
        return False, None


def _apply(base: Iterator[DeltaEntry], delta: Iterator[DeltaEntry]) -> Iterator[Entry]:
    """Merge a delta into its base: delta rows replace, null rows remove."""
    left = next(base, None)
    right = next(delta, None)
    while left is not None or right is not None:
        if right is None or (left is not None and left[0] < right[0]):
            assert left is not None and left[1] is not None
            yield left[0], left[1]
            left = next(base, None)
        else:
            if right[1] is not None:
                yield right[0], right[1]
            if left is not None and left[0] == right[0]:
                left = next(base, None)
            right = next(delta, None)


def _remember(cache: OrderedDict[_K, _V], key: _K, value: _V, size: int) -> None:
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > size:
        cache.popitem(last=False)
