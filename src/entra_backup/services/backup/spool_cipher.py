"""Throw-away encryption of what a backup spools to temporary files.

Spools hold decrypted tenant data (whole objects, names, user principal names) under
``TMPDIR`` while a backup runs; a crashed or killed run cannot delete them. So each spool
seals every body with AES-256-GCM under a fresh random key that exists only in the
process's memory: what a crash leaves behind is ciphertext whose key died with the
process. Object ids (GUIDs, which order the merge) stay in clear; they name no one.
"""

from __future__ import annotations

import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE = 12


class SpoolCipher:
    """Seals and opens one spool's records under a key no one else ever sees."""

    def __init__(self) -> None:
        self._aead = AESGCM(AESGCM.generate_key(bit_length=256))

    def seal(self, data: bytes, context: str) -> bytes:
        """``data`` encrypted and authenticated, bound to ``context`` (the row's key), so a
        body cannot be moved to another row unnoticed."""
        # A random 96-bit nonce per record: a spool seals far fewer than the 2**32
        # records one key may take with random nonces.
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, data, context.encode())

    def open(self, sealed: bytes, context: str) -> bytes:
        """The plaintext of a sealed record of the same spool and row."""
        return self._aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], context.encode())
