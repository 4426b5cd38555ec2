"""Timestamps stored as naive UTC, so SQLite's text comparison orders them correctly."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


def to_utc(value: datetime) -> datetime:
    """The same instant as an aware UTC datetime (naive values are taken as UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_graph_time(value: Any) -> datetime | None:
    """A Graph ``DateTimeOffset`` string as UTC, or None when absent or unparseable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return to_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime in Python, naive UTC in the database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Store the UTC wall time without an offset."""
        return None if value is None else to_utc(value).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Read the stored wall time back as UTC."""
        return None if value is None else value.replace(tzinfo=UTC)
