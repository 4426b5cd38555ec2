"""Canonical JSON: one byte sequence for every JSON value, whatever its key order.

Every document the engine stores, hashes or compares goes through :func:`canonical_bytes`:
object keys sorted by code point, no insignificant whitespace, UTF-8 without escaping
beyond what JSON requires, numbers in their shortest round-tripping form. Encoding the
decoded bytes again gives the same bytes (the form is stable), so a document's content
hash does not depend on how Graph happened to order its properties.

Only JSON values are accepted: dicts with string keys, lists, strings, integers that fit
in 64 bits, finite floats, booleans and None. Anything else raises
:class:`NotCanonicalisable`.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import orjson

JsonValue: TypeAlias = Any
"""A decoded JSON value (dict, list, str, int, float, bool or None)."""

_OPTIONS = orjson.OPT_SORT_KEYS


class NotCanonicalisable(ValueError):
    """The value is not plain JSON (non-string keys, huge integers, foreign types)."""


def canonical_bytes(value: JsonValue) -> bytes:
    """Return the canonical UTF-8 encoding of a JSON value."""
    try:
        return orjson.dumps(value, option=_OPTIONS)
    except (orjson.JSONEncodeError, TypeError) as exc:
        raise NotCanonicalisable(f"not a plain JSON value: {exc}") from exc


def parse_json(data: bytes) -> JsonValue:
    """Decode JSON bytes; raise :class:`NotCanonicalisable` for invalid input."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise NotCanonicalisable(f"invalid JSON: {exc}") from exc


def is_canonical(data: bytes) -> bool:
    """Whether ``data`` is already in canonical form."""
    try:
        return canonical_bytes(parse_json(data)) == data
    except NotCanonicalisable:
        return False
