"""A key provider that wraps the master key with a random secret kept in a file.

The key file holds 32 random bytes, base64-encoded on one line; create it with
:meth:`KeyFileProvider.generate`, which makes it readable by its owner only. The wrapped
blob is the master key sealed with AES-256-GCM under HKDF(key file secret), with the
repository id as associated data.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from pathlib import Path

from entra_backup.store.crypto import (
    KEY_SIZE,
    OpenFailed,
    hkdf,
    random_bytes,
    unwrap_with_key,
    wrap_with_key,
)
from entra_backup.store.keys.base import KeyProvider, KeyProviderError, WrongKey

_FORMAT_VERSION = 1


class KeyFileProvider(KeyProvider):
    """Wraps master keys with the secret read from a key file."""

    kind = "keyfile"

    def __init__(self, secret: bytes) -> None:
        if len(secret) != KEY_SIZE:
            raise KeyProviderError(f"a key file secret has {KEY_SIZE} bytes, not {len(secret)}")
        self._key = hkdf(secret, "entra-backup keyfile wrap v1")

    @classmethod
    def from_file(cls, path: Path) -> KeyFileProvider:
        """Read the secret from ``path``; raise KeyProviderError if it is unusable."""
        try:
            text = path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise KeyProviderError(f"cannot read key file {path}: {exc}") from exc
        try:
            secret = base64.b64decode(text, validate=True)
        except binascii.Error as exc:
            raise KeyProviderError(f"key file {path} is not base64") from exc
        return cls(secret)

    @classmethod
    def generate(cls, path: Path) -> KeyFileProvider:
        """Create a new key file (owner-only permissions); refuse to overwrite one."""
        secret = random_bytes(KEY_SIZE)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError as exc:
            raise KeyProviderError(f"key file {path} exists already") from exc
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(base64.b64encode(secret).decode("ascii") + "\n")
        return cls(secret)

    def wrap(self, master_key: bytes, *, context: bytes) -> bytes:
        """Seal the master key under the key file's secret."""
        sealed = wrap_with_key(self._key, master_key, context)
        blob = {"version": _FORMAT_VERSION, "wrapped": base64.b64encode(sealed).decode("ascii")}
        return json.dumps(blob, sort_keys=True).encode()

    def unwrap(self, wrapped: bytes, *, context: bytes) -> bytes:
        """Recover the master key; raise WrongKey if this key file does not open it."""
        try:
            fields = json.loads(wrapped)
            if fields["version"] != _FORMAT_VERSION:
                raise KeyProviderError(f"unsupported key file blob version {fields['version']}")
            sealed = base64.b64decode(fields["wrapped"], validate=True)
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise KeyProviderError(f"malformed key file blob: {exc}") from exc
        try:
            return unwrap_with_key(self._key, sealed, context)
        except OpenFailed as exc:
            raise WrongKey("the key file does not open this key") from exc
