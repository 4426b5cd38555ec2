"""Whether a JSON value is a valid OData JSON representation of an Edm primitive type."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$")
_DURATION = re.compile(r"^-?P(?!$)(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,12})?)?$")
_SPECIAL_NUMBERS = frozenset({"NaN", "INF", "-INF"})


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return _is_int(value) or isinstance(value, float) or value in _SPECIAL_NUMBERS


def _is_datetime(value: Any) -> bool:
    if not isinstance(value, str) or not _DATETIME.match(value):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_date(value: Any) -> bool:
    if not isinstance(value, str) or len(value) != 10:
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_binary(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    padded = value + "=" * (-len(value) % 4)
    try:
        base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _matches(pattern: re.Pattern[str]) -> Callable[[Any], bool]:
    return lambda value: isinstance(value, str) and pattern.match(value) is not None


_CHECKS: dict[str, Callable[[Any], bool]] = {
    "Edm.String": lambda v: isinstance(v, str),
    "Edm.Boolean": lambda v: isinstance(v, bool),
    "Edm.Guid": _matches(_GUID),
    "Edm.DateTimeOffset": _is_datetime,
    "Edm.Date": _is_date,
    "Edm.Duration": _matches(_DURATION),
    "Edm.TimeOfDay": _matches(_TIME),
    "Edm.Binary": _is_binary,
    **{name: _is_int for name in ("Edm.Int16", "Edm.Int32", "Edm.Int64", "Edm.Byte",
                                  "Edm.SByte")},
    **{name: _is_number for name in ("Edm.Double", "Edm.Single", "Edm.Decimal")},
}
_ANYTHING = frozenset({"Edm.Untyped", "Edm.Stream", "Edm.PrimitiveType"})


def is_primitive(type_name: str) -> bool:
    """Whether ``type_name`` names an Edm primitive type (``Edm.String``...)."""
    return type_name.startswith("Edm.")


def primitive_problem(type_name: str, value: Any) -> str | None:
    """Why ``value`` is not a valid ``type_name`` value, or None when it is.

    Untyped, stream and geography values are accepted as they are: the CSDL gives no
    shape to check them against.
    """
    check = _CHECKS.get(type_name)
    if check is None or type_name in _ANYTHING:
        return None
    if check(value):
        return None
    return f"{_show(value)} is not a valid {type_name}"


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
