"""A key provider that wraps the master key with a passphrase (argon2id).

The wrapped blob is JSON: the KDF name and parameters, a random salt, and the master key
sealed with AES-256-GCM under the argon2id output, with the repository id as associated
data. Parameters below :data:`MINIMUM` are refused, both when wrapping and when
unwrapping, unless :func:`allow_weak_kdf_for_tests` was called inside a test run: weak
parameters keep a test suite fast and are useless anywhere else. Parameters above
:data:`MAXIMUM` are refused too (:class:`KdfTooCostly`): they are read from a key file
anyone with write access to the repository can add, and argon2 would otherwise try to
allocate whatever memory such a file asks for.
"""

from __future__ import annotations

import base64
import binascii
import json
import sys
from dataclasses import dataclass

from argon2.low_level import Type, hash_secret_raw

from entra_backup.store.crypto import (
    KEY_SIZE,
    SALT_SIZE,
    OpenFailed,
    random_bytes,
    unwrap_with_key,
    wrap_with_key,
)
from entra_backup.store.keys.base import KeyProvider, KeyProviderError, WrongKey

_FORMAT_VERSION = 1
_KDF = "argon2id"


@dataclass(frozen=True, slots=True)
class KdfParams:
    """argon2id cost parameters: passes, memory in KiB, lanes."""

    time_cost: int = 3
    memory_kib: int = 64 * 1024
    parallelism: int = 2

    def is_weaker_than(self, other: KdfParams) -> bool:
        """Whether either cost is below ``other``'s."""
        return self.time_cost < other.time_cost or self.memory_kib < other.memory_kib


    def exceeds(self, other: KdfParams) -> bool:
        """Whether any cost is above ``other``'s."""
        return (self.time_cost > other.time_cost or self.memory_kib > other.memory_kib
                or self.parallelism > other.parallelism)


DEFAULT = KdfParams()
MINIMUM = KdfParams(time_cost=2, memory_kib=19 * 1024, parallelism=1)
MAXIMUM = KdfParams(time_cost=64, memory_kib=4 * 1024 * 1024, parallelism=16)
"""4 GiB, 64 passes, 16 lanes: far above any sensible setting (the default is 64 MiB,
3 passes, 2 lanes), low enough that a hostile key file cannot exhaust the host."""
WEAK_FOR_TESTS = KdfParams(time_cost=1, memory_kib=8, parallelism=1)

_weak_allowed = False


class KdfTooCostly(KeyProviderError):
    """A passphrase key asks for argon2 costs above :data:`MAXIMUM`."""


def allow_weak_kdf_for_tests() -> None:
    """Let this process use :data:`WEAK_FOR_TESTS`; refused outside a pytest run."""
    global _weak_allowed  # noqa: PLW0603 - a process-wide switch by design
    if "pytest" not in sys.modules:
        raise KeyProviderError("weak passphrase parameters are only allowed in tests")
    _weak_allowed = True


class PassphraseKeyProvider(KeyProvider):
    """Wraps master keys with a key derived from a passphrase."""

    kind = "passphrase"

    def __init__(self, passphrase: str, *, params: KdfParams = DEFAULT) -> None:
        if not passphrase:
            raise KeyProviderError("the passphrase is empty")
        _refuse_weak(params)
        _refuse_costly(params)
        self._passphrase = passphrase.encode("utf-8")
        self.params = params

    def wrap(self, master_key: bytes, *, context: bytes) -> bytes:
        """Seal the master key under argon2id(passphrase, fresh salt)."""
        salt = random_bytes(SALT_SIZE)
        wrapped = wrap_with_key(self._derive(salt, self.params), master_key, context)
        blob = {
            "version": _FORMAT_VERSION,
            "kdf": _KDF,
            "time_cost": self.params.time_cost,
            "memory_kib": self.params.memory_kib,
            "parallelism": self.params.parallelism,
            "salt": base64.b64encode(salt).decode("ascii"),
            "wrapped": base64.b64encode(wrapped).decode("ascii"),
        }
        return json.dumps(blob, sort_keys=True).encode()

    def unwrap(self, wrapped: bytes, *, context: bytes) -> bytes:
        """Recover the master key; raise WrongKey if the passphrase does not open it."""
        params, salt, sealed = _parse(wrapped)
        _refuse_costly(params)
        _refuse_weak(params)
        try:
            return unwrap_with_key(self._derive(salt, params), sealed, context)
        except OpenFailed as exc:
            raise WrongKey("the passphrase does not open this key") from exc

    def _derive(self, salt: bytes, params: KdfParams) -> bytes:
        return hash_secret_raw(
            self._passphrase,
            salt,
            time_cost=params.time_cost,
            memory_cost=params.memory_kib,
            parallelism=params.parallelism,
            hash_len=KEY_SIZE,
            type=Type.ID,
        )


def _refuse_weak(params: KdfParams) -> None:
    if params.is_weaker_than(MINIMUM) and not _weak_allowed:
        raise KeyProviderError(
            f"passphrase KDF parameters {params} are below the minimum {MINIMUM}"
        )


def _refuse_costly(params: KdfParams) -> None:
    if params.exceeds(MAXIMUM) or min(params.time_cost, params.memory_kib,
                                      params.parallelism) < 1:
        raise KdfTooCostly(
            f"passphrase key asks for argon2id with {params.memory_kib} KiB, "
            f"{params.time_cost} passes and {params.parallelism} lanes, outside the "
            f"accepted range (at most {MAXIMUM.memory_kib} KiB, {MAXIMUM.time_cost} passes, "
            f"{MAXIMUM.parallelism} lanes)")


def _parse(wrapped: bytes) -> tuple[KdfParams, bytes, bytes]:
    try:
        fields = json.loads(wrapped)
        if fields["version"] != _FORMAT_VERSION or fields["kdf"] != _KDF:
            raise KeyProviderError(
                f"unsupported passphrase key (version {fields['version']}, kdf {fields['kdf']})"
            )
        params = KdfParams(
            int(fields["time_cost"]), int(fields["memory_kib"]), int(fields["parallelism"])
        )
        salt = base64.b64decode(fields["salt"], validate=True)
        sealed = base64.b64decode(fields["wrapped"], validate=True)
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise KeyProviderError(f"malformed passphrase key: {exc}") from exc
    return params, salt, sealed
