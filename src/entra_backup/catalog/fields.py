"""The searchable fields the catalog copies from a Graph document."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from entra_backup.catalog.timestamps import parse_graph_time
from entra_backup.domain.canonical import canonical_bytes

# Most Entra types carry no lastModifiedDateTime; the newest documented timestamp a
# type does carry is the best "modified" it has.
_MODIFIED_KEYS = ("lastModifiedDateTime", "modifiedDateTime", "createdDateTime")


VersionHasher = Callable[[Mapping[str, Any]], str]
"""What the catalog stores as a version's hash: equal content, equal hash."""


def version_hash(document: Mapping[str, Any]) -> str:
    """SHA-256 of the document's canonical JSON: equal content, equal hash.

    Unkeyed, so never stored in the catalog (which is not encrypted: anyone reading it
    could confirm a guessed document by hashing it); the catalog stores
    :func:`keyed_version_hasher`'s hashes instead.
    """
    return hashlib.sha256(canonical_bytes(document)).hexdigest()


def keyed_version_hasher(key: bytes) -> VersionHasher:
    """HMAC-SHA256 of the document's canonical JSON under ``key`` (the repository's
    catalog-version-hash key): equal content, equal hash within one repository, and
    nothing a reader of the catalog without the repository key can recompute."""
    if len(key) < 32:
        raise ValueError("a catalog version-hash key has at least 32 bytes")

    def keyed(document: Mapping[str, Any]) -> str:
        return hmac.new(key, canonical_bytes(document), hashlib.sha256).hexdigest()

    return keyed


def _text(document: Mapping[str, Any], key: str) -> str | None:
    value = document.get(key)
    return value if isinstance(value, str) and value else None


def modified_time(document: Mapping[str, Any]) -> datetime | None:
    """The document's modification time, or its creation time when it has none."""
    for key in _MODIFIED_KEYS:
        parsed = parse_graph_time(document.get(key))
        if parsed is not None:
            return parsed
    return None


def searchable(document: Mapping[str, Any]) -> dict[str, Any]:
    """The catalog columns of one document."""
    return {
        "display_name": _text(document, "displayName"),
        "upn": _text(document, "userPrincipalName"),
        "mail": _text(document, "mail"),
        "app_id": _text(document, "appId"),
        "modified_time": modified_time(document),
    }


def search_terms(row: Mapping[str, Any]) -> list[str]:
    """The lowercased, distinct searchable values of a version row."""
    values = (row.get("display_name"), row.get("upn"), row.get("mail"), row.get("app_id"))
    return sorted({value.lower() for value in values if value})
