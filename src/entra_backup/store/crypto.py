"""Symmetric primitives of the repository: key derivation, blob ids and sealing.

* The 64-byte master key never encrypts anything itself. HKDF-SHA256 derives one key per
  purpose from it (:class:`RepositoryKeys`): the blob-id key, the data root key, the
  config MAC key, the MAC keys of saved restore plans and restore journals (files kept
  outside the repository, which only a holder of the master key can make or change), and
  the key of the catalog's version hashes (the catalog is not encrypted, so an unkeyed hash
  of a document would let its reader confirm a guessed document).
* The export-signing key is an Ed25519 key whose 32-byte seed HKDF derives the same way:
  every export of one repository is signed by the same key, and anyone holding the master
  key can recreate it, so it needs no storage of its own.
* Every file (pack, index, snapshot) gets a fresh random 128-bit salt; its encryption key
  is HKDF-Expand(data root, salt). Within a file, nonces are a counter starting at 0. A
  (key, nonce) pair therefore repeats only if two files draw the same 128-bit salt.
* AES-256-GCM seals; associated data binds the repository id, the kind of thing sealed
  and, for blobs, the blob id, so a ciphertext moved to another place fails to open.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF, HKDFExpand

MASTER_KEY_SIZE = 64
KEY_SIZE = 32
SALT_SIZE = 16
NONCE_SIZE = 12
TAG_SIZE = 16
ID_SIZE = 32
REPO_ID_SIZE = 16
SEAL_OVERHEAD = NONCE_SIZE + TAG_SIZE

_MAX_COUNTER = 2**64 - 1
_KIND_BYTES = [bytes([kind]) for kind in range(256)]


class OpenFailed(Exception):
    """A ciphertext did not authenticate (wrong key, wrong context or damaged bytes)."""


def random_bytes(size: int) -> bytes:
    """Cryptographically secure random bytes."""
    return os.urandom(size)


def hkdf(secret: bytes, purpose: str, length: int = KEY_SIZE, salt: bytes | None = None) -> bytes:
    """Derive ``length`` bytes for ``purpose`` from a high-entropy secret."""
    return HKDF(
        algorithm=hashes.SHA256(), length=length, salt=salt, info=purpose.encode()
    ).derive(secret)


@dataclass(frozen=True, slots=True)
class RepositoryKeys:
    """The per-purpose keys derived from one repository's master key."""

    repo_id: bytes
    id_key: bytes = field(repr=False)
    export_signing_seed: bytes = field(repr=False)
    data_root: bytes = field(repr=False)
    config_mac_key: bytes = field(repr=False)
    plan_mac_key: bytes = field(repr=False)
    journal_mac_key: bytes = field(repr=False)
    catalog_hash_key: bytes = field(repr=False)

    @classmethod
    def derive(cls, master_key: bytes, repo_id: bytes) -> RepositoryKeys:
        """Derive every purpose key of the repository ``repo_id``."""
        if len(master_key) != MASTER_KEY_SIZE:
            raise ValueError(f"a master key has {MASTER_KEY_SIZE} bytes")
        return cls(
            repo_id=repo_id,
            id_key=hkdf(master_key, "entra-backup blob-id v1", salt=repo_id),
            export_signing_seed=hkdf(master_key, "entra-backup export-signing v1", salt=repo_id),
            data_root=hkdf(master_key, "entra-backup data v1", salt=repo_id),
            config_mac_key=hkdf(master_key, "entra-backup config-mac v1", salt=repo_id),
            plan_mac_key=hkdf(master_key, "entra-backup restore-plan-mac v1", salt=repo_id),
            journal_mac_key=hkdf(master_key, "entra-backup restore-journal-mac v1",
                                 salt=repo_id),
            catalog_hash_key=hkdf(master_key, "entra-backup catalog-version-hash v1",
                                  salt=repo_id),
        )

    def blob_id(self, kind: int, plaintext: bytes) -> bytes:
        """The keyed hash naming a blob: outsiders cannot confirm guessed content."""
        hasher = hashlib.blake2b(_KIND_BYTES[kind], key=self.id_key, digest_size=ID_SIZE)
        hasher.update(plaintext)
        return hasher.digest()

    def export_signing_key(self) -> Ed25519PrivateKey:
        """The Ed25519 key that signs this repository's export manifests."""
        return Ed25519PrivateKey.from_private_bytes(self.export_signing_seed)

    def config_mac(self, data: bytes) -> bytes:
        """HMAC-SHA256 of the config's canonical fields."""
        return hmac.new(self.config_mac_key, data, hashlib.sha256).digest()

    def plan_mac(self, data: bytes) -> bytes:
        """HMAC-SHA256 of a restore plan's canonical JSON (its ``mac`` field aside)."""
        return hmac.new(self.plan_mac_key, data, hashlib.sha256).digest()

    def journal_mac(self, data: bytes) -> bytes:
        """HMAC-SHA256 of one restore journal line bound to its run (canonical JSON)."""
        return hmac.new(self.journal_mac_key, data, hashlib.sha256).digest()

    def file_cipher(self, salt: bytes) -> FileCipher:
        """The sealing cipher of a new file whose fresh random salt is ``salt``."""
        return FileCipher(self.data_root, salt)

    def file_opener(self, salt: bytes) -> FileOpener:
        """The opening-only cipher of an existing file whose salt is ``salt``."""
        return FileOpener(self.data_root, salt)


class FileOpener:
    """Opens what was sealed under one file's key. It cannot seal: a reader that could
    would number its nonces from 0 again, reusing nonces the file's writer used."""

    __slots__ = ("_aead", "salt")

    def __init__(self, data_root: bytes, salt: bytes) -> None:
        if len(salt) != SALT_SIZE:
            raise ValueError(f"a file salt has {SALT_SIZE} bytes")
        key = HKDFExpand(
            algorithm=hashes.SHA256(), length=KEY_SIZE, info=b"entra-backup file v1" + salt
        ).derive(data_root)
        self._aead = AESGCM(key)
        self.salt = salt

    def open(self, sealed: bytes, associated: bytes) -> bytes:
        """Authenticate and decrypt ``nonce || ciphertext || tag``; raise OpenFailed."""
        if len(sealed) < SEAL_OVERHEAD:
            raise OpenFailed("sealed data is shorter than a nonce and a tag")
        try:
            return self._aead.decrypt(sealed[:NONCE_SIZE], sealed[NONCE_SIZE:], associated)
        except InvalidTag as exc:
            raise OpenFailed("authentication failed") from exc


class FileCipher(FileOpener):
    """The writer's cipher of one new file (its salt fresh): seals with nonces numbered
    from 0 upwards, and opens what it sealed (to verify a record before it is kept)."""

    __slots__ = ("_counter",)

    def __init__(self, data_root: bytes, salt: bytes) -> None:
        super().__init__(data_root, salt)
        self._counter = 0

    def seal(self, plaintext: bytes, associated: bytes) -> bytes:
        """Return ``nonce || ciphertext || tag`` with the next unused nonce."""
        if self._counter >= _MAX_COUNTER:
            raise OverflowError("nonce space of this file is exhausted")
        nonce = self._counter.to_bytes(NONCE_SIZE, "little")
        self._counter += 1
        return nonce + self._aead.encrypt(nonce, plaintext, associated)


def wrap_with_key(key: bytes, secret: bytes, associated: bytes) -> bytes:
    """Seal ``secret`` under a 32-byte key with a random nonce (used once per key wrap)."""
    nonce = random_bytes(NONCE_SIZE)
    return nonce + AESGCM(key).encrypt(nonce, secret, associated)


def unwrap_with_key(key: bytes, wrapped: bytes, associated: bytes) -> bytes:
    """Open what :func:`wrap_with_key` sealed; raise OpenFailed."""
    if len(wrapped) < SEAL_OVERHEAD:
        raise OpenFailed("wrapped key is too short")
    try:
        return AESGCM(key).decrypt(wrapped[:NONCE_SIZE], wrapped[NONCE_SIZE:], associated)
    except InvalidTag as exc:
        raise OpenFailed("authentication failed") from exc
