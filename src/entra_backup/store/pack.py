"""Pack files: many sealed blobs in one file, with an encrypted header at the end.

Layout::

    "EBPK" | version (1) | salt (16) | blob record 1 | ... | blob record n |
    sealed header | header length (4, little-endian)

Blob records are sealed under the pack's own key (derived from its salt) with nonces
0, 1, 2...; the header (a list of ``[blob id, kind, offset, length, raw length]``) is
sealed with the next nonce and associated data ``repository id || "pack-header"``. The
header lets a damaged index be rebuilt from the packs alone. A pack's id is the SHA-256
of its bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import orjson

from entra_backup.store.blob import BlobCodec, Dictionary
from entra_backup.store.crypto import (
    SALT_SIZE,
    FileOpener,
    OpenFailed,
    random_bytes,
)
from entra_backup.store.errors import CorruptFile, UnsupportedFormat
from entra_backup.store.files import FORMAT_VERSION, PACK_MAGIC, PREAMBLE_SIZE, content_name

_HEADER_AD = b"pack-header"
_TRAILER_SIZE = 4


class PackEntry(NamedTuple):
    """Where one blob sits in its pack."""

    blob_id: bytes
    kind: int
    offset: int
    length: int
    raw_length: int


@dataclass(frozen=True, slots=True)
class FinishedPack:
    """A complete pack ready to upload."""

    pack_id: str
    salt: bytes
    data: bytes
    entries: list[PackEntry]


class PackBuilder:
    """Accumulates sealed blobs into one pack."""

    def __init__(self, codec: BlobCodec) -> None:
        self._codec = codec
        salt = random_bytes(SALT_SIZE)
        self._cipher = codec.keys.file_cipher(salt)
        self._salt = salt
        self._buffer = bytearray(PACK_MAGIC + FORMAT_VERSION.to_bytes(1, "big") + salt)
        self.entries: list[PackEntry] = []

    @property
    def size(self) -> int:
        """Bytes written so far."""
        return len(self._buffer)

    def add(
        self, kind: int, blob_id: bytes, plaintext: bytes, dictionary: Dictionary | None = None
    ) -> PackEntry:
        """Seal a blob into the pack (verified by reading it back)."""
        record = self._codec.seal(self._cipher, kind, blob_id, plaintext, dictionary)
        entry = PackEntry(blob_id, kind, len(self._buffer), len(record), len(plaintext))
        self._buffer += record
        self.entries.append(entry)
        return entry

    def finish(self) -> FinishedPack:
        """Append the sealed header and trailer; the builder is spent afterwards."""
        rows = [[e.blob_id.hex(), e.kind, e.offset, e.length, e.raw_length] for e in self.entries]
        header = self._cipher.seal(orjson.dumps(rows), self._codec.keys.repo_id + _HEADER_AD)
        self._buffer += header
        self._buffer += len(header).to_bytes(_TRAILER_SIZE, "little")
        data = bytes(self._buffer)
        return FinishedPack(content_name(data), self._salt, data, self.entries)


def pack_salt(data: bytes, name: str) -> bytes:
    """The salt in a pack's preamble; raise CorruptFile if the preamble is damaged."""
    if len(data) < PREAMBLE_SIZE or data[:4] != PACK_MAGIC:
        raise CorruptFile(f"pack {name} has a damaged preamble")
    if data[4] != FORMAT_VERSION:
        raise UnsupportedFormat(f"pack {name} has format version {data[4]}")
    return data[5:PREAMBLE_SIZE]


def read_header(codec: BlobCodec, data: bytes, name: str) -> list[PackEntry]:
    """Decrypt and parse a whole pack's header."""
    cipher = FileOpener(codec.keys.data_root, pack_salt(data, name))
    if len(data) < PREAMBLE_SIZE + _TRAILER_SIZE:
        raise CorruptFile(f"pack {name} is truncated")
    header_length = int.from_bytes(data[-_TRAILER_SIZE:], "little")
    start = len(data) - _TRAILER_SIZE - header_length
    if header_length <= 0 or start < PREAMBLE_SIZE:
        raise CorruptFile(f"pack {name} has a damaged trailer (truncated?)")
    try:
        body = cipher.open(data[start:-_TRAILER_SIZE], codec.keys.repo_id + _HEADER_AD)
        rows = orjson.loads(body)
        return [
            PackEntry(bytes.fromhex(row[0]), int(row[1]), int(row[2]), int(row[3]), int(row[4]))
            for row in rows
        ]
    except (OpenFailed, orjson.JSONDecodeError, ValueError, TypeError, IndexError) as exc:
        raise CorruptFile(f"pack {name} has a damaged header: {exc}") from exc
