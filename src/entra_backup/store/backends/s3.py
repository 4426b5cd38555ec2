"""A backend on S3 or an S3-compatible object store (MinIO, Ceph, Safespring...).

Addressing: ``endpoint_url`` and ``path_style`` reach servers other than AWS; every file
lives at ``prefix + name`` in one bucket.

Atomicity: S3 makes a PUT visible all at once. ``create`` sends ``If-None-Match: *`` so
the server refuses to replace an existing object (HTTP 412 becomes
:class:`AlreadyExists`); a concurrent conditional write (HTTP 409) is reported as a
:class:`TransientError` and a retry then sees the winner's object. A server without
conditional writes can be used with ``conditional_create=False``: the backend then checks
with HEAD before PUT, which is racy (two writers of one name may both succeed, the last
one winning), so use it only where a single writer holds the repository lock. Every PUT
carries Content-MD5, so a body damaged in transit is rejected by the server.

Retries: the client makes one attempt per call; :mod:`.wrappers` decides about retries.

Object Lock (``object_lock=ObjectLockPolicy(...)``, bucket created with Object Lock
enabled, hence versioned): every new object carries a retention mode and a
retain-until date (now + the policy's retention), except names under the policy's
``exempt_prefixes`` (``locks/`` by default, since lock files must be removable at once).
Under Object Lock, :meth:`S3Backend.delete` means *permanently delete the current
version*: it deletes by version id, which the server refuses while the retention runs
(reported as :class:`ObjectLocked`, and the data stays readable). It never adds a delete
marker, so a refused delete hides nothing. A plain DELETE sent by someone else (without a
version id) only adds a delete marker: the name disappears but the retained version can
still be read by version id until the retention ends. Do not configure a default
retention on the bucket itself: it would also lock the lock files.
Without Object Lock, ``delete`` is a plain DELETE; on a versioned bucket that leaves the
old version recoverable, as whoever enabled versioning intended.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from entra_backup.store.backends.base import (
    AlreadyExists,
    Backend,
    BackendError,
    FileInfo,
    NotFound,
    ObjectLocked,
    TransientError,
)
from entra_backup.store.backends.names import check_name, check_prefix, check_range

_NO_LOCK_CONFIGURATION = "ObjectLockConfigurationNotFoundError"
_NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
_TRANSIENT_CODES = frozenset({
    "500", "502", "503", "504", "InternalError", "ServiceUnavailable", "SlowDown",
    "RequestTimeout", "RequestTimeTooSkewed", "Throttling", "ThrottlingException",
    "ConditionalRequestConflict", "OperationAborted", "409",
})


@dataclass(frozen=True, slots=True)
class ObjectLockPolicy:
    """Retention given to every new object (GOVERNANCE or COMPLIANCE mode)."""

    retention: timedelta
    mode: Literal["GOVERNANCE", "COMPLIANCE"] = "COMPLIANCE"
    exempt_prefixes: tuple[str, ...] = ("locks/",)


@dataclass(frozen=True, slots=True)
class S3Settings:
    """Where and how to reach the bucket. Credentials default to boto3's usual chain."""

    bucket: str
    prefix: str = ""
    endpoint_url: str | None = None
    region: str | None = None
    path_style: bool = False
    access_key_id: str | None = None
    secret_access_key: str | None = None
    session_token: str | None = None
    object_lock: ObjectLockPolicy | None = None
    conditional_create: bool = True
    connect_timeout: float = 10.0
    read_timeout: float = 60.0


def make_client(settings: S3Settings) -> Any:
    """A boto3 S3 client for these settings, making exactly one attempt per call."""
    config = Config(
        s3={"addressing_style": "path" if settings.path_style else "auto"},
        retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        # Newer botocore adds CRC trailers by default, which several S3-compatible servers
        # reject; Content-MD5 (sent on every PUT) gives the integrity check instead.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    session = boto3.session.Session(
        aws_access_key_id=settings.access_key_id,
        aws_secret_access_key=settings.secret_access_key,
        aws_session_token=settings.session_token,
        region_name=settings.region,
    )
    return session.client("s3", endpoint_url=settings.endpoint_url, config=config)


class S3Backend(Backend):
    """Files stored as objects ``prefix + name`` in one bucket."""

    def __init__(
        self,
        settings: S3Settings,
        *,
        client: Any | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self._client = client if client is not None else make_client(settings)
        self._prefix = _normalise_prefix(settings.prefix)
        self._clock = clock

    def create(self, name: str, data: bytes) -> None:
        """PUT the object unless the name exists; raise AlreadyExists if it does."""
        key = self._key(name)
        args: dict[str, Any] = {
            "Bucket": self.settings.bucket,
            "Key": key,
            "Body": data,
            "ContentMD5": base64.b64encode(hashlib.md5(data).digest()).decode("ascii"),
        }
        args.update(self._retention_args(name))
        if self.settings.conditional_create:
            args["IfNoneMatch"] = "*"
        elif self._head(key) is not None:
            raise AlreadyExists(f"{name} exists already")
        with _translate("create", name):
            self._client.put_object(**args)

    def read(self, name: str) -> bytes:
        """GET the whole object."""
        key = self._key(name)
        with _translate("read", name):
            response = self._client.get_object(Bucket=self.settings.bucket, Key=key)
            return bytes(response["Body"].read())

    def read_range(self, name: str, offset: int, length: int) -> bytes:
        """GET a byte range; past the end of the object gives fewer (or no) bytes."""
        check_range(offset, length)
        key = self._key(name)
        if length == 0:
            if self._head(key) is None:
                raise NotFound(f"{name} does not exist")
            return b""
        try:
            with _translate("read", name):
                response = self._client.get_object(
                    Bucket=self.settings.bucket,
                    Key=key,
                    Range=f"bytes={offset}-{offset + length - 1}",
                )
                return bytes(response["Body"].read())[:length]
        except _RangeNotSatisfiableError:
            return b""

    def delete(self, name: str) -> None:
        """Delete the object (by version under Object Lock, see the module docstring)."""
        key = self._key(name)
        head = self._head(key)
        if head is None:
            raise NotFound(f"{name} does not exist")
        args: dict[str, Any] = {"Bucket": self.settings.bucket, "Key": key}
        version = head.get("VersionId")
        if self.settings.object_lock is not None and version not in (None, "null"):
            args["VersionId"] = version
        try:
            with _translate("delete", name):
                self._client.delete_object(**args)
        except _AccessDeniedError as exc:
            raise self._explain_denied_delete(name, head, exc) from None

    def list(self, prefix: str = "") -> Iterator[FileInfo]:
        """Yield the objects under ``prefix``, page by page."""
        check_prefix(prefix)
        paginator = self._client.get_paginator("list_objects_v2")
        pages = paginator.paginate(Bucket=self.settings.bucket, Prefix=self._prefix + prefix)
        with _translate("list", prefix or "/"):
            for page in pages:
                for item in page.get("Contents", []):
                    yield FileInfo(item["Key"][len(self._prefix) :], int(item["Size"]))

    def exists(self, name: str) -> bool:
        """HEAD the object."""
        return self._head(self._key(name)) is not None

    def retained_until(self, name: str) -> datetime | None:
        """When the file's Object Lock retention ends, or None if it may be deleted now.

        Only asked when this backend locks what it writes (one HEAD per file): prune uses it
        to plan around files it could not delete (``store/prune.py``).
        """
        if self.settings.object_lock is None:
            return None
        head = self._head(self._key(name))
        until = None if head is None else head.get("ObjectLockRetainUntilDate")
        if isinstance(until, datetime) and until.timestamp() > self._clock():
            return until
        return None

    def object_lock_enabled(self) -> bool:
        """Whether the bucket was created with Object Lock (needed before locking objects)."""
        what = "the bucket's Object Lock configuration"
        try:
            response = self._client.get_object_lock_configuration(Bucket=self.settings.bucket)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == _NO_LOCK_CONFIGURATION:
                return False
            raise _from_client_error("inspect", what, exc) from exc
        except BotoCoreError as exc:
            raise TransientError(f"cannot inspect {what}: {exc}") from exc
        configuration = response.get("ObjectLockConfiguration", {})
        return bool(configuration.get("ObjectLockEnabled") == "Enabled")

    def withdraw(self, name: str) -> None:
        """A plain DELETE: under Object Lock it adds a delete marker (the retained version
        stays readable by version id until its retention ends); otherwise as ``delete``."""
        if self.settings.object_lock is None:
            self.delete(name)
            return
        key = self._key(name)
        if self._head(key) is None:
            raise NotFound(f"{name} does not exist")
        with _translate("delete", name):
            self._client.delete_object(Bucket=self.settings.bucket, Key=key)

    def old_versions_kept(self) -> str | None:
        """Object Lock (from this backend's policy) or the bucket's versioning status."""
        policy = self.settings.object_lock
        if policy is not None:
            return (f"the bucket retains every version under S3 Object Lock for "
                    f"{policy.retention.days} days")
        what = "the bucket's versioning status"
        try:
            status = self._client.get_bucket_versioning(Bucket=self.settings.bucket).get(
                "Status")
        except ClientError as exc:
            raise _from_client_error("inspect", what, exc) from exc
        except BotoCoreError as exc:
            raise TransientError(f"cannot inspect {what}: {exc}") from exc
        if status in ("Enabled", "Suspended"):
            # Suspended versioning still keeps the versions written while it was enabled.
            return f"the bucket is versioned (versioning {status.lower()})"
        return None

    def close(self) -> None:
        """Close the client's connection pool."""
        self._client.close()

    def _key(self, name: str) -> str:
        return self._prefix + check_name(name)

    def _head(self, key: str) -> dict[str, Any] | None:
        try:
            with _translate("inspect", key):
                response: dict[str, Any] = self._client.head_object(
                    Bucket=self.settings.bucket, Key=key
                )
                return response
        except NotFound:
            return None

    def _retention_args(self, name: str) -> dict[str, Any]:
        policy = self.settings.object_lock
        if policy is None or name.startswith(policy.exempt_prefixes):
            return {}
        until = datetime.fromtimestamp(self._clock(), UTC) + policy.retention
        return {"ObjectLockMode": policy.mode, "ObjectLockRetainUntilDate": until}

    def _explain_denied_delete(
        self, name: str, head: dict[str, Any], exc: BackendError
    ) -> BackendError:
        until = head.get("ObjectLockRetainUntilDate")
        if isinstance(until, datetime) and until.timestamp() > self._clock():
            return ObjectLocked(f"{name} is retained until {until.isoformat()}")
        return BackendError(f"{exc} (missing s3:DeleteObject or s3:DeleteObjectVersion?)")


class _AccessDeniedError(BackendError):
    """The server refused the call with 403."""


class _RangeNotSatisfiableError(BackendError):
    """The requested range starts past the end of the object."""


class _translate:  # noqa: N801 - used like a function, as a context manager
    """Turn boto errors raised inside the block into backend errors."""

    def __init__(self, action: str, name: str) -> None:
        self._action = action
        self._name = name

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, _tb: object
    ) -> None:
        if isinstance(exc, ClientError):
            raise _from_client_error(self._action, self._name, exc) from exc
        if isinstance(exc, BotoCoreError):
            raise TransientError(f"cannot {self._action} {self._name}: {exc}") from exc


def _from_client_error(action: str, name: str, exc: ClientError) -> BackendError:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    detail = f"cannot {action} {name}: {code} {error.get('Message', '')}".rstrip()
    if code in ("PreconditionFailed", "412") or status == 412:
        return AlreadyExists(f"{name} exists already")
    if code in _NOT_FOUND_CODES or (status == 404 and code != "NoSuchBucket"):
        return NotFound(f"{name} does not exist")
    if code == "InvalidRange" or status == 416:
        return _RangeNotSatisfiableError(detail)
    if code == "AccessDenied" or status == 403:
        return _AccessDeniedError(detail)
    if code in _TRANSIENT_CODES or (isinstance(status, int) and status >= 500):
        return TransientError(detail)
    return BackendError(detail)


def _normalise_prefix(prefix: str) -> str:
    stripped = prefix.strip("/")
    return f"{check_prefix(stripped)}/" if stripped else ""
