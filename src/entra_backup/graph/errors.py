"""What can go wrong talking to Microsoft Graph, as one exception tree.

Every class carries a message an administrator can act on; the CLI prints it on one line.
``from_response`` turns a final (not retried) Graph error response into the right class.
"""

from __future__ import annotations

import re
from typing import Any

from entra_backup.domain.errors import EntraBackupError

# Codes Graph and the directory use for a delta token that can no longer be replayed
# (delta-query-overview, "Token duration" and "Synchronization reset").
DELTA_RESET_CODES = frozenset({"syncstatenotfound", "resyncrequired", "syncstateinvalid"})
# Newer Graph workloads name the roles they accept in the 403 message.
_REQUIRED_ROLE = re.compile(r"requires one of '([^']+)'", re.IGNORECASE)


class GraphClientError(EntraBackupError):
    """Base class of every failure of a Graph call."""

    exit_code = 4

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None,
                 request_id: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.request_id = request_id


class AuthenticationError(GraphClientError):
    """The identity platform refused to issue a token (or Graph refused the one we had)."""

    exit_code = 5

    def __init__(self, message: str, *, aadsts: str | None = None, hint: str = "",
                 status: int | None = None) -> None:
        full = f"{message} {hint}".strip()
        super().__init__(full, status=status, code=aadsts)
        self.aadsts = aadsts
        self.hint = hint


class PermissionDenied(GraphClientError):
    """The app lacks a Graph permission (application role) the call needs."""

    exit_code = 6

    def __init__(self, message: str, *, permission: str | None = None,
                 status: int | None = 403, code: str | None = None,
                 request_id: str | None = None) -> None:
        super().__init__(message, status=status, code=code, request_id=request_id)
        self.permission = permission


class NotFound(GraphClientError):
    """The object or path does not exist (404)."""


class BadRequest(GraphClientError):
    """Graph refused the request as invalid; ``code`` and ``graph_message`` are Graph's."""

    def __init__(self, message: str, *, status: int | None = 400, code: str | None = None,
                 graph_message: str = "", request_id: str | None = None) -> None:
        super().__init__(message, status=status, code=code, request_id=request_id)
        self.graph_message = graph_message


class RetryDeadlineExceeded(GraphClientError):
    """Retries of a call went on longer than the configured total deadline."""


class ThrottledTooLong(RetryDeadlineExceeded):
    """Graph kept throttling (429) past the retry deadline."""


class DeltaTokenExpired(GraphClientError):
    """A saved deltaLink can no longer be used: do a full resync of that type.

    ``location`` is the URL Graph gave to restart from (``410 Gone``), if any.
    """

    def __init__(self, message: str, *, location: str | None = None, status: int | None = 410,
                 code: str | None = None, request_id: str | None = None) -> None:
        super().__init__(message, status=status, code=code, request_id=request_id)
        self.location = location


class TransportError(GraphClientError):
    """Graph could not be reached: DNS, refused connection, TLS or a dropped connection."""


class ServiceError(GraphClientError):
    """Graph kept failing with a server error (5xx)."""


class ForeignUrl(GraphClientError):
    """A link to follow is not on the configured Graph origin (the token stays home)."""

    exit_code = 7


class UnsafePath(GraphClientError):
    """A Graph path holds segments that would make it name another resource."""

    exit_code = 8


def graph_error_parts(body: Any) -> tuple[str | None, str]:
    """Graph's ``error.code`` and ``error.message`` from a parsed error body."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        code = error.get("code")
        message = error.get("message")
        return (str(code) if code is not None else None,
                str(message) if message is not None else "")
    return None, ""


def from_response(status: int, body: Any, headers: dict[str, str], *, method: str, url: str,
                  permission: str | None = None) -> GraphClientError:
    """The exception for a final Graph error response.

    ``permission`` names the permission the caller knows the call needs; Graph's own
    403 usually does not say which one is missing.
    """
    code, graph_message = graph_error_parts(body)
    request_id = headers.get("request-id") or headers.get("client-request-id")
    where = f"{method} {_short(url)}"
    detail = f"{code}: {graph_message}" if code else (graph_message or f"HTTP {status}")
    if status == 410 or (code or "").lower() in DELTA_RESET_CODES:
        return DeltaTokenExpired(
            f"The delta token for {where} can no longer be used ({detail}); "
            "a full resync of this type is needed.",
            location=headers.get("location"), status=status, code=code, request_id=request_id)
    if status == 401:
        return AuthenticationError(f"Graph refused the access token for {where} ({detail}).",
                                   status=status,
                                   hint="Check that the app registration is in this tenant "
                                        "and cloud and that its credentials are current.")
    if status == 403:
        return _permission_denied(where, detail, graph_message, permission=permission,
                                  code=code, request_id=request_id)
    if status == 404:
        return NotFound(f"Not found: {where} ({detail}).", status=status, code=code,
                        request_id=request_id)
    if status >= 500:
        return ServiceError(f"Graph failed with HTTP {status} on {where} ({detail}).",
                            status=status, code=code, request_id=request_id)
    return BadRequest(f"Graph rejected {where} with HTTP {status} ({detail}).", status=status,
                      code=code, graph_message=graph_message, request_id=request_id)


def _permission_denied(where: str, detail: str, graph_message: str, *,
                       permission: str | None, code: str | None,
                       request_id: str | None) -> PermissionDenied:
    named = _REQUIRED_ROLE.search(graph_message)
    needed = permission or (named.group(1) if named else None)
    advice = (f"Grant the application permission {needed} to the app and give admin consent."
              if needed else
              "Grant the app the read permission of this object type and give admin consent.")
    return PermissionDenied(f"Permission denied for {where} ({detail}). {advice}",
                            permission=needed, code=code, request_id=request_id)


def _short(url: str, limit: int = 160) -> str:
    """A URL cut to a readable length: delta and skip tokens are long and opaque."""
    return url if len(url) <= limit else url[: limit - 1] + "…"
