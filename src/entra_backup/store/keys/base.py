"""The contract of a key provider (envelope encryption).

A repository has one random master key. Each key provider wraps that master key into an
opaque blob (stored in the repository's ``keys/`` folder) and unwraps it again. Several
wrapped copies may coexist, so a key can be added or removed without re-encrypting data.
"""

from __future__ import annotations

from abc import ABC, abstractmethod


class KeyProviderError(Exception):
    """Base class of key provider failures."""


class KeyServiceDown(KeyProviderError):
    """The service that holds the wrapping key (AWS KMS) does not answer."""


class WrongKey(KeyProviderError):
    """The provider's secret does not open this wrapped key (wrong passphrase, KMS key...)."""


class KeyProvider(ABC):
    """Wraps and unwraps a repository master key."""

    kind: str
    """Stable name stored beside the wrapped key: ``passphrase``, ``keyfile``, ``aws-kms``."""

    @abstractmethod
    def wrap(self, master_key: bytes, *, context: bytes) -> bytes:
        """Return an opaque blob from which :meth:`unwrap` recovers ``master_key``.

        ``context`` (the repository id) is bound to the blob: unwrapping it for another
        repository fails.
        """

    @abstractmethod
    def unwrap(self, wrapped: bytes, *, context: bytes) -> bytes:
        """Recover the master key; raise :class:`WrongKey` if this provider cannot."""
