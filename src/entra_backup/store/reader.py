"""Reading blobs back from packs, one at a time or in batches grouped by pack."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from entra_backup.store.backends.base import Backend, NotFound
from entra_backup.store.blob import BlobCodec
from entra_backup.store.crypto import FileOpener
from entra_backup.store.errors import CorruptBlob, MissingBlob, MissingPack
from entra_backup.store.files import pack_name
from entra_backup.store.index import BlobIndex, Location

_CIPHER_CACHE = 256
_MAX_GAP = 64 * 1024


class BlobReader:
    """Fetches and opens blobs located through an index."""

    def __init__(self, backend: Backend, codec: BlobCodec, index: BlobIndex) -> None:
        self._backend = backend
        self.codec = codec
        self.index = index
        self.damaged: dict[bytes, str] = {}
        """Blobs marked damaged (left out of the index): named as such, not as unindexed."""
        self._ciphers: OrderedDict[str, FileOpener] = OrderedDict()

    def locate(self, kind: int, blob_id: bytes) -> Location:
        """The blob's location; raise MissingBlob or CorruptBlob for a kind mismatch."""
        location = self.index.get(blob_id)
        if location is None and blob_id in self.damaged:
            raise CorruptBlob(
                f"blob {blob_id.hex()} is marked damaged in the repository "
                f"({self.damaged[blob_id]}); run a backup to store it again, or "
                "'entra-backup repair snapshots' to record it as lost"
            )
        if location is None:
            raise MissingBlob(
                f"blob {blob_id.hex()} is in no index (if index files were lost or damaged, "
                "run 'entra-backup repair index')"
            )
        if location.kind != kind:
            raise CorruptBlob(
                f"blob {blob_id.hex()} is indexed as kind {location.kind}, expected {kind}"
            )
        return location

    def read(self, kind: int, blob_id: bytes, *, rehash: bool = False) -> bytes:
        """Fetch one blob and return its verified plaintext."""
        location = self.locate(kind, blob_id)
        record = self._fetch(location.pack_id, location.offset, location.length)
        return self.open(location, kind, blob_id, record, rehash=rehash)

    def read_many(self, kind: int, blob_ids: Sequence[bytes]) -> list[bytes]:
        """Fetch several blobs, one ranged read per run of nearby blobs in a pack."""
        located = [(self.locate(kind, blob), position) for position, blob in enumerate(blob_ids)]
        located.sort(key=lambda item: (item[0].pack_id, item[0].offset))
        results: list[bytes] = [b""] * len(blob_ids)
        start = 0
        while start < len(located):
            end = _run_end(located, start)
            first = located[start][0]
            last = located[end - 1][0]
            length = last.offset + last.length - first.offset
            span = self._fetch(first.pack_id, first.offset, length)
            for location, position in located[start:end]:
                relative = location.offset - first.offset
                record = span[relative : relative + location.length]
                results[position] = self.open(location, kind, blob_ids[position], record)
            start = end
        return results

    def open(
        self, location: Location, kind: int, blob_id: bytes, record: bytes, *, rehash: bool = False
    ) -> bytes:
        """Open a fetched record."""
        if len(record) != location.length:
            raise CorruptBlob(
                f"blob {blob_id.hex()} is truncated in pack {location.pack_id} "
                f"({len(record)} of {location.length} bytes)"
            )
        cipher = self._cipher(location.pack_id, location.salt)
        try:
            return self.codec.open(cipher, kind, blob_id, record, rehash=rehash)
        except CorruptBlob as exc:
            raise CorruptBlob(f"{exc.message} (in pack {location.pack_id})") from exc

    def _fetch(self, pack_id: str, offset: int, length: int) -> bytes:
        try:
            return self._backend.read_range(pack_name(pack_id), offset, length)
        except NotFound as exc:
            raise MissingPack(f"pack {pack_id} is missing") from exc

    def _cipher(self, pack_id: str, salt: bytes) -> FileOpener:
        cipher = self._ciphers.get(pack_id)
        if cipher is None:
            cipher = self.codec.keys.file_opener(salt)
            self._ciphers[pack_id] = cipher
            if len(self._ciphers) > _CIPHER_CACHE:
                self._ciphers.popitem(last=False)
        return cipher


def _run_end(located: list[tuple[Location, int]], start: int) -> int:
    """End of the run of blobs from ``start`` worth fetching in one ranged read.

    Neighbouring blobs of one pack share a read when the gap between them is at most
    :data:`_MAX_GAP`: reading a few unused KiB costs less than another request, while
    bridging large gaps would read whole packs to use a few blobs of them.
    """
    end = start + 1
    previous = located[start][0]
    while end < len(located):
        location = located[end][0]
        if location.pack_id != previous.pack_id:
            break
        if location.offset - (previous.offset + previous.length) > _MAX_GAP:
            break
        previous = location
        end += 1
    return end
