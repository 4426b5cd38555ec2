"""Storage backends: where repository files live (local disk, S3, memory).

:func:`open_backend` turns a repository location into a backend:

* a path or ``file:///path`` - :class:`~.local.LocalBackend`;
* ``s3://bucket/prefix`` with optional query parameters ``endpoint`` (a URL; implies
  path-style addressing unless ``path_style=false``), ``region``, ``path_style``,
  ``conditional_create`` (``false`` only for servers without ``If-None-Match``),
  ``object_lock_days`` and ``object_lock_mode`` (``COMPLIANCE`` or ``GOVERNANCE``) -
  :class:`~.s3.S3Backend`, credentials from boto3's usual chain (environment, profile,
  instance role). The endpoint must be ``https://``; ``http://`` only to a loopback
  address with ``ENTRA_BACKUP_S3_ALLOW_HTTP=loopback`` (:mod:`.endpoint`);
* ``memory://`` - a fresh :class:`~.memory.MemoryBackend`.

The result is wrapped in :class:`~.wrappers.RetryingBackend` (unless ``retry=False``) and
in :class:`~.wrappers.ReadOnlyView` when ``read_only=True``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Literal
from urllib.parse import parse_qs, unquote, urlsplit

from entra_backup.store.backends.base import Backend, BackendError
from entra_backup.store.backends.endpoint import InsecureEndpoint, check_endpoint
from entra_backup.store.backends.local import LocalBackend
from entra_backup.store.backends.memory import MemoryBackend
from entra_backup.store.backends.wrappers import ReadOnlyView, RetryingBackend

if TYPE_CHECKING:
    from entra_backup.store.backends.s3 import S3Settings

__all__ = ["BackendUrlError", "InsecureEndpoint", "check_endpoint", "open_backend",
           "s3_settings_from_url"]

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_LOCK_MODES: dict[str, Literal["GOVERNANCE", "COMPLIANCE"]] = {
    "GOVERNANCE": "GOVERNANCE",
    "COMPLIANCE": "COMPLIANCE",
}
_S3_OPTIONS = frozenset({
    "endpoint", "region", "path_style", "conditional_create", "object_lock_days",
    "object_lock_mode",
})


class BackendUrlError(BackendError, ValueError):
    """The repository location cannot be understood."""


def open_backend(location: str, *, read_only: bool = False, retry: bool = True) -> Backend:
    """Open the backend a repository location names (see the module docstring)."""
    backend = _open_plain(location)
    if retry:
        backend = RetryingBackend(backend)
    if read_only:
        backend = ReadOnlyView(backend)
    return backend


def _open_plain(location: str) -> Backend:
    scheme = urlsplit(location).scheme if "://" in location else ""
    if scheme == "":
        return LocalBackend(location)
    if scheme == "file":
        return LocalBackend(unquote(urlsplit(location).path))
    if scheme == "memory":
        return MemoryBackend()
    if scheme == "s3":
        try:
            from entra_backup.store.backends.s3 import S3Backend  # noqa: PLC0415 - boto3 is optional
        except ImportError as exc:
            raise BackendUrlError(
                "S3 repositories need boto3: install entra-backup[s3]"
            ) from exc
        return S3Backend(s3_settings_from_url(location))
    raise BackendUrlError(f"unknown repository scheme {scheme!r} in {location!r}")


def s3_settings_from_url(location: str) -> S3Settings:
    """Parse ``s3://bucket/prefix?endpoint=...&region=...`` into S3 settings."""
    from entra_backup.store.backends.s3 import (  # noqa: PLC0415 - boto3 is optional
        ObjectLockPolicy,
        S3Settings,
    )

    parts = urlsplit(location)
    if not parts.netloc:
        raise BackendUrlError(f"S3 location needs a bucket: {location!r}")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    unknown = set(query) - _S3_OPTIONS
    if unknown:
        raise BackendUrlError(f"unknown S3 option(s) {sorted(unknown)} in {location!r}")
    endpoint = query.get("endpoint")
    check_endpoint(endpoint)
    lock = None
    if "object_lock_days" in query:
        mode = _LOCK_MODES.get(query.get("object_lock_mode", "COMPLIANCE").upper())
        if mode is None:
            raise BackendUrlError("object_lock_mode must be COMPLIANCE or GOVERNANCE")
        days = _positive_int(query["object_lock_days"], "object_lock_days")
        lock = ObjectLockPolicy(retention=timedelta(days=days), mode=mode)
    return S3Settings(
        bucket=parts.netloc,
        prefix=unquote(parts.path).strip("/"),
        endpoint_url=endpoint,
        region=query.get("region"),
        path_style=_flag(query, "path_style", default=endpoint is not None),
        conditional_create=_flag(query, "conditional_create", default=True),
        object_lock=lock,
    )


def _flag(query: dict[str, str], key: str, *, default: bool) -> bool:
    value = query.get(key)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise BackendUrlError(f"{key} must be true or false, got {value!r}")


def _positive_int(value: str, key: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise BackendUrlError(f"{key} must be a positive whole number, got {value!r}")
    return int(value)
