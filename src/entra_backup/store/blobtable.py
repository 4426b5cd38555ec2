"""A compact in-memory map from blob id to location: 49 bytes per blob.

A Python dict of a million 32-byte keys costs about 160 MiB; this table keeps the same
information in one ``bytearray`` of fixed-size records sorted by blob id, plus a small
dict of recent additions. When the dict reaches :data:`MERGE_AT` entries they are merged
into the array in place, from the end backwards, so memory stays close to 49 bytes per
blob and never doubles during a merge.

Blob ids are keyed hashes, so they are uniformly distributed: a directory of where each
value of the first two bytes starts narrows a search to about ``n / 65536`` records, and a
binary search in that bucket takes a few probes.
"""

from __future__ import annotations

import struct
from array import array
from collections.abc import Iterator
from itertools import accumulate
from operator import add

Record = tuple[int, int, int, int, int]
"""Pack number, kind, offset, length and raw length."""

_LAYOUT = struct.Struct("<32sIBIII")
_SIZE = _LAYOUT.size
_ID = 32
_BUCKETS = 1 << 16
MERGE_AT = 65536


class BlobTable:
    """Blob id to :data:`Record`, compact."""

    def __init__(self, merge_at: int = MERGE_AT) -> None:
        self._records = bytearray()
        self._count = 0
        self._starts = array("Q", bytes(8 * (_BUCKETS + 1)))
        self._recent: dict[bytes, Record] = {}
        self._merge_at = merge_at

    def __len__(self) -> int:
        return self._count + len(self._recent)

    def __contains__(self, blob_id: object) -> bool:
        if not isinstance(blob_id, bytes):
            return False
        return blob_id in self._recent or self._search(blob_id)[0]

    def get(self, blob_id: bytes) -> Record | None:
        """The record of a blob, or None."""
        record = self._recent.get(blob_id)
        if record is not None:
            return record
        found, position = self._search(blob_id)
        if not found:
            return None
        return _LAYOUT.unpack_from(self._records, position * _SIZE)[1:]

    def add(self, blob_id: bytes, record: Record) -> None:
        """Add a blob that is not in the table yet."""
        self._recent[blob_id] = record
        if len(self._recent) >= self._merge_at:
            self.merge()

    def items(self) -> Iterator[tuple[bytes, Record]]:
        """Every blob id with its record (merged ones in id order, then recent ones)."""
        for blob_id, *record in _LAYOUT.iter_unpack(bytes(self._records)):
            yield blob_id, (record[0], record[1], record[2], record[3], record[4])
        yield from list(self._recent.items())

    def merge(self) -> None:
        """Move the recent additions into the sorted array, in place."""
        recent = self._recent
        additions = [(blob_id, recent[blob_id]) for blob_id in sorted(recent)]
        if not additions:
            return
        positions = [self._search(blob_id)[1] for blob_id, _ in additions]
        records = self._records
        end = self._count
        records.extend(bytes(len(additions) * _SIZE))
        for shift in range(len(additions), 0, -1):
            blob_id, record = additions[shift - 1]
            start = positions[shift - 1]
            if start < end:
                records[(start + shift) * _SIZE : (end + shift) * _SIZE] = (
                    records[start * _SIZE : end * _SIZE]
                )
            _LAYOUT.pack_into(records, (start + shift - 1) * _SIZE, blob_id, *record)
            end = start
        self._count += len(additions)
        self._recent = {}
        self._move_bucket_starts(additions)

    def _move_bucket_starts(self, additions: list[tuple[bytes, Record]]) -> None:
        added = [0] * (_BUCKETS + 1)
        for blob_id, _ in additions:
            added[(blob_id[0] << 8 | blob_id[1]) + 1] += 1
        self._starts = array("Q", map(add, self._starts, accumulate(added)))

    def _search(self, blob_id: bytes) -> tuple[bool, int]:
        """Whether the id is in the sorted array, and where it is or would be inserted."""
        records = self._records
        bucket = blob_id[0] << 8 | blob_id[1]
        low, high = self._starts[bucket], self._starts[bucket + 1] - 1
        while low <= high:
            middle = (low + high) >> 1
            stored = records[middle * _SIZE : middle * _SIZE + _ID]
            if stored == blob_id:
                return True, middle
            if stored < blob_id:
                low = middle + 1
            else:
                high = middle - 1
        return False, low
