"""Readers hold ciphers that can only open: sealing with one would reuse nonce 0."""

from __future__ import annotations

import os

import pytest

from entra_backup.store.crypto import (
    MASTER_KEY_SIZE,
    SALT_SIZE,
    FileCipher,
    OpenFailed,
    RepositoryKeys,
)


@pytest.fixture
def keys() -> RepositoryKeys:
    return RepositoryKeys.derive(os.urandom(MASTER_KEY_SIZE), os.urandom(16))


def test_an_opener_opens_what_the_writer_sealed_and_cannot_seal(keys: RepositoryKeys) -> None:
    salt = os.urandom(SALT_SIZE)
    sealed = keys.file_cipher(salt).seal(b"document", b"ad")
    opener = keys.file_opener(salt)
    assert opener.open(sealed, b"ad") == b"document"
    assert not hasattr(opener, "seal")
    assert not isinstance(opener, FileCipher)
    with pytest.raises(OpenFailed):
        opener.open(sealed, b"other ad")


def test_the_writer_numbers_its_nonces_and_never_repeats_one(keys: RepositoryKeys) -> None:
    cipher = keys.file_cipher(os.urandom(SALT_SIZE))
    nonces = {cipher.seal(b"x", b"ad")[:12] for _ in range(100)}
    assert len(nonces) == 100
