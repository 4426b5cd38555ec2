"""Blobs: the sealed unit of content (a document, a manifest, a manifest chunk).

A blob's plaintext is canonical bytes. Its id is the keyed hash of kind and plaintext.
Stored, it is ``nonce || AES-256-GCM(flag || payload)`` where ``flag`` says whether the
payload is zstd-compressed (it is unless compression would not shrink it), and the
associated data is ``repository id || kind || blob id``: a ciphertext copied to another
blob's place, another kind or another repository fails to open.
"""

from __future__ import annotations

from enum import IntEnum

import zstandard

from entra_backup.store.crypto import FileCipher, OpenFailed, RepositoryKeys
from entra_backup.store.errors import CorruptBlob

_RAW = b"\x00"
_ZSTD = b"\x01"
COMPRESSION_LEVEL = 3


class BlobKind(IntEnum):
    """What a blob holds; part of its id and of its associated data."""

    DOCUMENT = 1
    MANIFEST = 2
    CHUNK = 3


def associated_data(repo_id: bytes, kind: int, blob_id: bytes) -> bytes:
    """The associated data binding a blob's ciphertext to its place."""
    return repo_id + kind.to_bytes(1, "big") + blob_id


class BlobCodec:
    """Compresses, seals, opens and verifies blobs for one repository (not thread-safe)."""

    def __init__(self, keys: RepositoryKeys) -> None:
        self.keys = keys
        self._compressor = zstandard.ZstdCompressor(level=COMPRESSION_LEVEL)
        self._decompressor = zstandard.ZstdDecompressor()

    def seal(self, cipher: FileCipher, kind: int, blob_id: bytes, plaintext: bytes) -> bytes:
        """Compress and seal; then open the result again to prove it reads back."""
        packed = self._compressor.compress(plaintext)
        payload = _ZSTD + packed if len(packed) < len(plaintext) else _RAW + plaintext
        ad = associated_data(self.keys.repo_id, kind, blob_id)
        record = cipher.seal(payload, ad)
        if self._unpack(cipher.open(record, ad)) != plaintext:
            raise CorruptBlob(f"blob {blob_id.hex()} did not read back after sealing")
        return record

    def open(
        self, cipher: FileCipher, kind: int, blob_id: bytes, record: bytes, *, rehash: bool = False
    ) -> bytes:
        """Return the plaintext; raise CorruptBlob if anything does not verify."""
        try:
            plaintext = self._unpack(
                cipher.open(record, associated_data(self.keys.repo_id, kind, blob_id))
            )
        except (OpenFailed, zstandard.ZstdError, ValueError) as exc:
            raise CorruptBlob(f"blob {blob_id.hex()} is damaged: {exc}") from exc
        if rehash and self.keys.blob_id(kind, plaintext) != blob_id:
            raise CorruptBlob(f"blob {blob_id.hex()} does not match its content hash")
        return plaintext

    def _unpack(self, payload: bytes) -> bytes:
        flag, body = payload[:1], payload[1:]
        if flag == _ZSTD:
            return self._decompressor.decompress(body)
        if flag == _RAW:
            return body
        raise ValueError(f"unknown blob encoding flag {flag!r}")
