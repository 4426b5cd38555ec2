"""Requests, responses and errors as the Graph side of the emulator sees them.

The HTTP layer turns each HTTPS request into a :class:`GraphRequest`; ``$batch`` turns
each inner request into one too, so both go through the same pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import orjson

JSON_CONTENT_TYPE = (
    "application/json;odata.metadata=minimal;odata.streaming=true;"
    "IEEE754Compatible=false;charset=utf-8"
)


@dataclass(slots=True)
class GraphRequest:
    """One Graph call: method, path below ``/v1.0``, decoded query and headers."""

    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    base_url: str = "https://graph.microsoft.com/v1.0"
    in_batch: bool = False

    @classmethod
    def from_url(
        cls, method: str, url: str, headers: dict[str, str], body: bytes, base_url: str
    ) -> GraphRequest:
        """Build from a relative URL such as ``/users?$top=5`` (as ``$batch`` gives them)."""
        path, _, raw_query = url.partition("?")
        if not path.startswith("/"):
            path = "/" + path
        query = dict(parse_qsl(raw_query, keep_blank_values=True))
        lowered = {k.lower(): v for k, v in headers.items()}
        return cls(method.upper(), path, query, lowered, body, base_url)

    def header(self, name: str) -> str | None:
        """A request header by case-insensitive name."""
        return self.headers.get(name.lower())

    def json(self) -> Any:
        """The body parsed as JSON; a Graph 400 if it is not JSON."""
        if not self.body:
            raise GraphError(400, "BadRequest", "Empty Payload. JSON content expected.")
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError as exc:
            raise GraphError(
                400, "BadRequest", "Unable to read JSON request payload. Please ensure "
                "Content-Type header is set and payload is of valid JSON format."
            ) from exc

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object."""
        value = self.json()
        if not isinstance(value, dict):
            raise GraphError(400, "BadRequest", "Invalid request body: a JSON object is expected.")
        return value


@dataclass(slots=True)
class GraphResponse:
    """Status, headers and an already JSON-serialisable body (or None for no content)."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        """The body as bytes (empty for no content)."""
        return b"" if self.body is None else orjson.dumps(self.body)


class GraphError(Exception):
    """An error Graph reports with its ``{"error": {"code", "message", "innerError"}}`` shape."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.details = details

    def body(self, *, date: str, request_id: str, client_request_id: str) -> dict[str, Any]:
        """The JSON error body Graph sends."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            error["details"] = self.details
        error["innerError"] = {
            "date": date,
            "request-id": request_id,
            "client-request-id": client_request_id,
        }
        return {"error": error}


def not_found(resource_id: str) -> GraphError:
    """Graph's 404 for a directory object id that does not exist."""
    return GraphError(
        404,
        "Request_ResourceNotFound",
        f"Resource '{resource_id}' does not exist or one of its queried reference-property "
        "objects are not present.",
    )


def bad_request(message: str, code: str = "Request_BadRequest") -> GraphError:
    """A 400 with Graph's directory error code."""
    return GraphError(400, code, message)


def unsupported_query(message: str = "Unsupported Query.") -> GraphError:
    """The 400 Graph answers for a query the directory does not support."""
    return GraphError(400, "Request_UnsupportedQuery", message)
