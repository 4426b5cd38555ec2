"""What an export archive is made of, shared by the writer and the verifier.

Format version 2 (``docs/export.md``) has a line-oriented ``manifest.json``: it is one JSON
document, but laid out so that a verifier can read it a line at a time and never hold it
whole::

    {"exported_at": ..., "tenant": ..., "version": 2, "files": [
    {"id": ..., "path": ..., "sha256": ..., "size": ..., "type": ...},
    ...
    {"id": ..., "path": ..., "sha256": ..., "size": ..., "type": ...}
    ]}

Beside it, ``manifest.sig`` holds an Ed25519 signature of the manifest's SHA-256, made
with the repository's export-signing key (derived from its master key), in a small JSON
envelope naming the algorithm and the signing key's fingerprint.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from entra_backup.domain.errors import EntraBackupError

FORMAT = "entra-backup-export"
FORMAT_VERSION = 2
MANIFEST_NAME = "manifest.json"
SIGNATURE_NAME = "manifest.sig"
README_NAME = "README.txt"
UNLISTED = frozenset({MANIFEST_NAME, SIGNATURE_NAME, README_NAME})
ALGORITHM = "Ed25519"
# The manifest's header line ends with this, and the line after the last record is the
# footer: the layout that makes the manifest readable a line at a time.
FILES_OPENING = b',"files":[\n'
FILES_CLOSING = b"]}\n"
# Signed: this prefix and the manifest's SHA-256 in hex. The prefix keeps a signature
# made for an export from meaning anything else.
SIGNED_PREFIX = b"entra-backup-export manifest.json sha256:"


class ExportError(EntraBackupError):
    """An export could not be made or an export archive could not be read."""

    exit_code = 13


class ExportNotVerified(ExportError):
    """An export archive was read but is not verified: a file or its signature is wrong,
    missing, or could not be checked."""

    exit_code = 19


def fingerprint(public_key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw 32-byte public key, in hex: how the key is named."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    """The key as a PEM ``PUBLIC KEY`` block (SubjectPublicKeyInfo)."""
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM; ValueError when it is anything else."""
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def signed_message(manifest_sha256: str) -> bytes:
    """What the signature covers: the manifest's exact bytes, through their SHA-256."""
    return SIGNED_PREFIX + manifest_sha256.encode("ascii")


def signature_envelope(key: Ed25519PrivateKey, manifest_sha256: str) -> bytes:
    """The content of ``manifest.sig`` for a manifest whose SHA-256 is given."""
    signature = key.sign(signed_message(manifest_sha256))
    return orjson.dumps({
        "algorithm": ALGORITHM,
        "key_fingerprint": fingerprint(key.public_key()),
        "manifest": MANIFEST_NAME,
        "manifest_sha256": manifest_sha256,
        "signature": base64.b64encode(signature).decode(),
    }, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def manifest_bytes(header: dict[str, Any], files: list[dict[str, Any]]) -> bytes:
    """The line-oriented manifest: the header on one line, then one line per file."""
    opening = orjson.dumps(header, option=orjson.OPT_SORT_KEYS)[:-1] + FILES_OPENING
    records = b",\n".join(orjson.dumps(item, option=orjson.OPT_SORT_KEYS) for item in files)
    return opening + records + (b"\n" if files else b"") + FILES_CLOSING


def key_summary(key: Ed25519PublicKey, repository: str) -> dict[str, str]:
    """What ``key export-public`` shows: the repository, the algorithm, PEM, fingerprint."""
    return {"repository": repository, "algorithm": ALGORITHM,
            "fingerprint": fingerprint(key), "pem": public_key_pem(key)}
