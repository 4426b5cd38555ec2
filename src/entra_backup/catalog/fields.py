"""The searchable fields the catalog copies from a Graph document."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from entra_backup.catalog.timestamps import parse_graph_time
from entra_backup.domain.canonical import canonical_bytes

# Most Entra types carry no lastModifiedDateTime; the newest documented timestamp a
# type does carry is the best "modified" it has.
_MODIFIED_KEYS = ("lastModifiedDateTime", "modifiedDateTime", "createdDateTime")


def version_hash(document: Mapping[str, Any]) -> str:
    """SHA-256 of the document's canonical JSON: equal content, equal hash."""
    return hashlib.sha256(canonical_bytes(document)).hexdigest()


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
