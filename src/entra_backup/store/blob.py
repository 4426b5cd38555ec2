"""Blobs: the sealed unit of content (a document, a manifest, a manifest chunk).

A blob's plaintext is canonical bytes. Its id is the keyed hash of kind and plaintext.
Stored, it is ``nonce || AES-256-GCM(flag || payload)`` where ``flag`` says how the
payload is encoded: 0 raw, 1 zstd, 2 ``dictionary id (32) || zstd with that dictionary``
(the dictionary is itself a blob of kind DICTIONARY); raw is used only when compression
would not shrink the blob. The associated data is ``repository id || kind || blob id``:
a ciphertext copied to another blob's place, another kind or another repository fails
to open.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum

import zstandard

from entra_backup.store.crypto import FileCipher, FileOpener, OpenFailed, RepositoryKeys
from entra_backup.store.errors import CorruptBlob

_RAW = b"\x00"
_ZSTD = b"\x01"
_ZSTD_DICT = b"\x02"
_DICT_ID_SIZE = 32
COMPRESSION_LEVEL = 3


class BlobKind(IntEnum):
    """What a blob holds; part of its id and of its associated data."""

    DOCUMENT = 1
    MANIFEST = 2
    CHUNK = 3
    DICTIONARY = 4


class Dictionary:
    """A zstd dictionary trained on one object type's documents, stored as a blob."""

    def __init__(self, blob_id: bytes, data: bytes) -> None:
        self.blob_id = blob_id
        self.data = data
        zstd_dict = zstandard.ZstdCompressionDict(data)
        self.compressor = zstandard.ZstdCompressor(level=COMPRESSION_LEVEL, dict_data=zstd_dict)
        self.decompressor = zstandard.ZstdDecompressor(dict_data=zstd_dict)


def train_dictionary(samples: list[bytes], size: int) -> bytes | None:
    """Train a zstd dictionary, or None when the samples are too few or too alike."""
    try:
        chunks: list[bytes | bytearray | memoryview] = list(samples)
        return zstandard.train_dictionary(size, chunks).as_bytes()
    except zstandard.ZstdError:
        return None


def associated_data(repo_id: bytes, kind: int, blob_id: bytes) -> bytes:
    """The associated data binding a blob's ciphertext to its place."""
    return repo_id + kind.to_bytes(1, "big") + blob_id


class BlobCodec:
    """Compresses, seals, opens and verifies blobs for one repository (not thread-safe)."""

    def __init__(
        self, keys: RepositoryKeys, load_dictionary: Callable[[bytes], bytes] | None = None
    ) -> None:
        self.keys = keys
        self._compressor = zstandard.ZstdCompressor(level=COMPRESSION_LEVEL)
        self._decompressor = zstandard.ZstdDecompressor()
        self._load_dictionary = load_dictionary
        self._dictionaries: dict[bytes, Dictionary] = {}

    def seal(
        self, cipher: FileCipher, kind: int, blob_id: bytes, plaintext: bytes,
        dictionary: Dictionary | None = None,
    ) -> bytes:
        """Compress and seal; then open the result again to prove it reads back."""
        if dictionary is not None:
            self._dictionaries.setdefault(dictionary.blob_id, dictionary)
            packed = dictionary.compressor.compress(plaintext)
            prefix = _ZSTD_DICT + dictionary.blob_id
        else:
            packed = self._compressor.compress(plaintext)
            prefix = _ZSTD
        payload = prefix + packed if len(packed) < len(plaintext) else _RAW + plaintext
        ad = associated_data(self.keys.repo_id, kind, blob_id)
        record = cipher.seal(payload, ad)
        if self._unpack(cipher.open(record, ad)) != plaintext:
            raise CorruptBlob(f"blob {blob_id.hex()} did not read back after sealing")
        return record

    def open(
        self, cipher: FileOpener, kind: int, blob_id: bytes, record: bytes, *, rehash: bool = False
    ) -> bytes:
        """Return the plaintext; raise CorruptBlob if anything does not verify."""
        try:
            plaintext = self._unpack(
                cipher.open(record, associated_data(self.keys.repo_id, kind, blob_id))
            )
        except (OpenFailed, zstandard.ZstdError, ValueError, LookupError) as exc:
            raise CorruptBlob(f"blob {blob_id.hex()} is damaged: {exc}") from exc
        if rehash and self.keys.blob_id(kind, plaintext) != blob_id:
            raise CorruptBlob(f"blob {blob_id.hex()} does not match its content hash")
        return plaintext

    def dictionary(self, blob_id: bytes) -> Dictionary:
        """A dictionary by blob id, loaded once."""
        found = self._dictionaries.get(blob_id)
        if found is None:
            if self._load_dictionary is None:
                raise LookupError(f"dictionary {blob_id.hex()} is not available")
            found = Dictionary(blob_id, self._load_dictionary(blob_id))
            self._dictionaries[blob_id] = found
        return found

    def _unpack(self, payload: bytes) -> bytes:
        flag, body = payload[:1], payload[1:]
        if flag == _ZSTD_DICT:
            dictionary = self.dictionary(body[:_DICT_ID_SIZE])
            return dictionary.decompressor.decompress(body[_DICT_ID_SIZE:])
        if flag == _ZSTD:
            return self._decompressor.decompress(body)
        if flag == _RAW:
            return body
        raise ValueError(f"unknown blob encoding flag {flag!r}")
