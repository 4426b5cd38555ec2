"""Sealed whole files (index and snapshot files) and the repository's file names.

A sealed file is ``magic (4) || version (1) || salt (16) || nonce || AES-256-GCM(zstd(body))``
with associated data ``repository id || magic``. Its name is the SHA-256 of the whole
file, so ``check --read-data`` can prove that nothing was altered even without the key.
"""

from __future__ import annotations

import hashlib

import zstandard

from entra_backup.store.crypto import SALT_SIZE, OpenFailed, RepositoryKeys, random_bytes
from entra_backup.store.errors import CorruptFile, UnsupportedFormat

FORMAT_VERSION = 1
INDEX_MAGIC = b"EBIX"
SNAPSHOT_MAGIC = b"EBSN"
PACK_MAGIC = b"EBPK"
PREAMBLE_SIZE = 4 + 1 + SALT_SIZE

CONFIG_NAME = "config"
DATA_PREFIX = "data/"
INDEX_PREFIX = "index/"
SNAPSHOT_PREFIX = "snapshots/"

_MAX_BODY = 1 << 30


def content_name(data: bytes) -> str:
    """The hex SHA-256 naming a file by its content."""
    return hashlib.sha256(data).hexdigest()


def pack_name(pack_id: str) -> str:
    """The backend name of a pack (fanned out by the first byte of its id)."""
    return f"{DATA_PREFIX}{pack_id[:2]}/{pack_id}"


def pack_id_of(name: str) -> str:
    """The pack id in a ``data/xx/<id>`` name."""
    return name.rsplit("/", 1)[-1]


def seal_file(keys: RepositoryKeys, magic: bytes, body: bytes) -> bytes:
    """Compress and seal ``body`` into a new file's bytes."""
    salt = random_bytes(SALT_SIZE)
    preamble = magic + FORMAT_VERSION.to_bytes(1, "big") + salt
    sealed = keys.file_cipher(salt).seal(
        zstandard.ZstdCompressor(level=3).compress(body), keys.repo_id + magic
    )
    return preamble + sealed


def open_file(keys: RepositoryKeys, magic: bytes, data: bytes, name: str) -> bytes:
    """Return the body of a sealed file; raise CorruptFile or UnsupportedFormat."""
    if len(data) < PREAMBLE_SIZE or data[:4] != magic:
        raise CorruptFile(f"{name} is not a {magic.decode()} file (damaged or truncated)")
    if data[4] != FORMAT_VERSION:
        raise UnsupportedFormat(f"{name} has format version {data[4]}, expected {FORMAT_VERSION}")
    cipher = keys.file_opener(data[5:PREAMBLE_SIZE])
    try:
        packed = cipher.open(data[PREAMBLE_SIZE:], keys.repo_id + magic)
        return zstandard.ZstdDecompressor().decompress(packed, max_output_size=_MAX_BODY)
    except (OpenFailed, zstandard.ZstdError) as exc:
        raise CorruptFile(f"{name} is damaged or was tampered with: {exc}") from exc
