"""The repository's ``config`` file: format version, repository id, pack size.

It is plain JSON, because the repository id must be known before any key can be
unwrapped (it is the key providers' context), with an HMAC under a key derived from the
master key: after unlocking, a config changed by someone without the key is refused.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

import orjson

from entra_backup.domain.canonical import canonical_bytes
from entra_backup.store.crypto import REPO_ID_SIZE, RepositoryKeys
from entra_backup.store.errors import CorruptFile, UnsupportedFormat

REPOSITORY_VERSION = 1
DEFAULT_PACK_SIZE = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class RepositoryConfig:
    """The fields of the ``config`` file."""

    repo_id: bytes
    created: str
    pack_size: int = DEFAULT_PACK_SIZE
    version: int = REPOSITORY_VERSION

    def _fields(self) -> bytes:
        return canonical_bytes({
            "version": self.version,
            "id": self.repo_id.hex(),
            "created": self.created,
            "pack_size": self.pack_size,
        })

    def encode(self, keys: RepositoryKeys) -> bytes:
        """The file's bytes, MAC included."""
        document = orjson.loads(self._fields())
        document["mac"] = keys.config_mac(self._fields()).hex()
        return canonical_bytes(document)

    def verify(self, keys: RepositoryKeys, mac: bytes) -> None:
        """Raise CorruptFile unless ``mac`` authenticates these fields."""
        if not hmac.compare_digest(keys.config_mac(self._fields()), mac):
            raise CorruptFile("the repository config was altered (its MAC does not match)")


def decode_config(data: bytes) -> tuple[RepositoryConfig, bytes]:
    """Parse the config file into its fields and MAC (not yet verified)."""
    try:
        document = orjson.loads(data)
        version = int(document["version"])
        if version != REPOSITORY_VERSION:
            raise UnsupportedFormat(
                f"repository format version {version} is not supported "
                f"(this program reads version {REPOSITORY_VERSION})"
            )
        repo_id = bytes.fromhex(document["id"])
        if len(repo_id) != REPO_ID_SIZE:
            raise ValueError("repository id has the wrong length")
        config = RepositoryConfig(
            repo_id, str(document["created"]), int(document["pack_size"]), version
        )
        return config, bytes.fromhex(document["mac"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise CorruptFile(f"the repository config is malformed: {exc}") from exc
