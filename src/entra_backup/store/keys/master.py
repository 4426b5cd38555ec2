"""The repository master key and its wrapped copies in ``keys/``.

Each file ``keys/<random id>`` is plain JSON: format version, provider kind, creation time
and the provider's opaque wrapped blob (base64). Opening tries every stored copy whose kind
matches the provider; the first that unwraps gives the master key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from entra_backup.store.backends.base import Backend, NotFound
from entra_backup.store.crypto import MASTER_KEY_SIZE, random_bytes
from entra_backup.store.errors import (
    CorruptFile,
    KeyNotFound,
    KeyStillNeeded,
    WrongKey,
    WrongPassphrase,
)
from entra_backup.store.keys.base import KeyProvider
from entra_backup.store.keys.base import WrongKey as ProviderWrongKey
from entra_backup.store.keys.passphrase import KdfTooCostly

KEYS_PREFIX = "keys/"
SHORT_ID_LENGTH = 8
"""Characters of a key file's id shown by ``key list`` (as restic shows them)."""
_FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class StoredKey:
    """One wrapped copy of the master key."""

    name: str
    kind: str
    created: str
    wrapped: bytes

    @property
    def id(self) -> str:
        """The file's random id (its name without ``keys/``)."""
        return self.name.removeprefix(KEYS_PREFIX)

    @property
    def short_id(self) -> str:
        """The id's first characters, as ``key list`` shows it."""
        return self.id[:SHORT_ID_LENGTH]


def new_master_key() -> bytes:
    """A fresh random master key."""
    return random_bytes(MASTER_KEY_SIZE)


def add_key(backend: Backend, provider: KeyProvider, master_key: bytes, repo_id: bytes) -> str:
    """Wrap the master key with ``provider`` and store the copy; return its file name."""
    return store_key(backend, provider, master_key, repo_id)[0]


def store_key(backend: Backend, provider: KeyProvider, master_key: bytes,
              repo_id: bytes) -> tuple[str, bytes]:
    """Like :func:`add_key`, also returning the bytes written: a home pins what it wrote,
    not what it reads back (which someone with write access could have replaced)."""
    wrapped = provider.wrap(master_key, context=repo_id)
    document = {
        "version": _FORMAT_VERSION,
        "kind": provider.kind,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "wrapped": base64.b64encode(wrapped).decode("ascii"),
    }
    name = KEYS_PREFIX + random_bytes(16).hex()
    data = json.dumps(document, sort_keys=True).encode()
    backend.create(name, data)
    return name, data


def stored_keys(backend: Backend) -> list[StoredKey]:
    """Every wrapped copy in the repository, sorted by name."""
    keys = []
    for info in sorted(backend.list(KEYS_PREFIX), key=lambda item: item.name):
        try:
            keys.append(parse_key(info.name, backend.read(info.name)))
        except NotFound:
            continue
    return keys


def key_files(backend: Backend) -> dict[str, bytes]:
    """Every key file's name and bytes, unparsed (no key needed)."""
    files = {}
    for info in backend.list(KEYS_PREFIX):
        try:
            files[info.name] = backend.read(info.name)
        except NotFound:
            continue
    return files


def key_set_fingerprint(backend: Backend) -> str:
    """SHA-256 over every key file's name and bytes, in name order (no key needed).

    A home pins it: a key file added, removed or altered by anyone but this home changes
    it, so a key slot slipped in by someone with bucket write access (and, with KMS, only
    ``kms:Encrypt``) is noticed before any key file is even parsed."""
    return fingerprint_of(key_files(backend))


def fingerprint_of(files: Mapping[str, bytes]) -> str:
    """The key set fingerprint of these key files (see :func:`key_set_fingerprint`)."""
    digest = hashlib.sha256(b"entra-backup key set v1\0")
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return digest.hexdigest()


def unlock(
    backend: Backend, provider: KeyProvider, repo_id: bytes,
    belongs: Callable[[bytes], bool] = lambda _key: True,
    foreign: list[str] | None = None,
) -> tuple[bytes, str]:
    """Return the master key and the name of the copy that opened; raise WrongKey.

    A copy that opens but holds a master key ``belongs`` rejects (one that does not
    authenticate the repository's config: a key slot someone added with a master key of
    their own) is skipped and its name appended to ``foreign``; if no other copy opens,
    CorruptFile says the config does not match."""
    candidates = [key for key in stored_keys(backend) if key.kind == provider.kind]
    if not candidates:
        raise WrongKey(f"the repository has no key of kind {provider.kind!r}")
    rejected = foreign if foreign is not None else []
    for key in candidates:
        try:
            master_key = provider.unwrap(key.wrapped, context=repo_id)
        except ProviderWrongKey:
            continue
        except KdfTooCostly as exc:
            raise KdfTooCostly(f"key {key.name}: {exc}") from exc
        if len(master_key) != MASTER_KEY_SIZE:
            raise CorruptFile(f"key {key.name} holds a master key of the wrong size")
        if not belongs(master_key):
            rejected.append(key.name)
            continue
        return master_key, key.name
    if rejected:
        raise CorruptFile(f"the repository config was altered (its MAC does not match the "
                          f"master key of {', '.join(rejected)})")
    if provider.kind == "passphrase":
        raise WrongPassphrase("wrong passphrase: it opens none of the repository's keys")
    raise WrongKey(f"the {provider.kind} key opens none of the repository's keys")


def find_key(backend: Backend, reference: str) -> StoredKey:
    """The key file a name names: its id, a unique prefix of it, or ``keys/<id>``."""
    wanted = reference.removeprefix(KEYS_PREFIX).lower()
    keys = stored_keys(backend)
    matches = [key for key in keys if key.id.startswith(wanted)] if wanted else []
    if len(matches) != 1:
        known = ", ".join(key.short_id for key in keys) or "none"
        how = "matches no key" if not matches else f"matches {len(matches)} keys"
        raise KeyNotFound(f"{reference!r} {how} (the repository's keys: {known}; "
                          "'entra-backup key list' shows them)")
    return matches[0]


def check_removable(backend: Backend, name: str, *, in_use: str) -> None:
    """Refuse to remove a key file that is not there, the one in use or the last one."""
    names = [key.name for key in stored_keys(backend)]
    if name not in names:
        raise KeyNotFound(f"no key named {name}")
    if name == in_use:
        raise KeyStillNeeded(f"refusing to remove key {_short(name)}: it is the key in use "
                             "(open the repository with another key to remove this one)")
    if len(names) == 1:
        raise KeyStillNeeded(f"refusing to remove key {_short(name)}: it is the last key")


def remove_key(backend: Backend, name: str, *, in_use: str,
               delete: Callable[[str], None] | None = None) -> None:
    """Delete a wrapped copy, refusing the one in use and the last remaining one.

    ``delete`` (default: the backend's) is how the file goes: on a bucket that retains
    versions, one that only hides the current version (``Backend.withdraw``)."""
    check_removable(backend, name, in_use=in_use)
    (delete or backend.delete)(name)


def _short(name: str) -> str:
    return name.removeprefix(KEYS_PREFIX)[:SHORT_ID_LENGTH]


def parse_key(name: str, data: bytes) -> StoredKey:
    """A key file's fields; CorruptFile if it is malformed."""
    try:
        fields = json.loads(data)
        if fields["version"] != _FORMAT_VERSION:
            raise CorruptFile(f"key {name} has unsupported version {fields['version']}")
        wrapped = base64.b64decode(fields["wrapped"], validate=True)
        return StoredKey(name, str(fields["kind"]), str(fields["created"]), wrapped)
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise CorruptFile(f"key file {name} is malformed: {exc}") from exc
