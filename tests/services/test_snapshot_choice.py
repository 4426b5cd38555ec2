"""Which strings name a point in time, and which moment they name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from entra_backup.domain.errors import UsageError
from entra_backup.services.snapshot_choice import is_point_in_time, parse_point_in_time


@pytest.mark.parametrize(("reference", "expected"), [
    ("2026-11-20T10:00", datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),
    ("2026-11-20 10:00:30", datetime(2026, 11, 20, 10, 0, 30, tzinfo=UTC)),
    ("2026-11-20T10:00+01:00", datetime(2026, 11, 20, 9, 0, tzinfo=UTC)),
    ("2026-11-20T10:00Z", datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),
    ("2026-11-20", datetime(2026, 11, 20, 23, 59, 59, 999999, tzinfo=UTC)),
])
def test_a_point_in_time_is_utc_unless_given_and_a_date_means_its_end(
        reference: str, expected: datetime) -> None:
    assert is_point_in_time(reference)
    assert parse_point_in_time(reference) == expected


def test_an_offset_is_kept_as_the_same_instant() -> None:
    parsed = parse_point_in_time("2026-11-20T10:00-05:00")
    assert parsed.utcoffset() == timedelta(hours=-5)
    assert parsed == datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize("reference", ["latest", "20261120", "0a1b2c", "deadbeef"])
def test_ids_prefixes_and_latest_are_not_points_in_time(reference: str) -> None:
    assert not is_point_in_time(reference)


def test_a_malformed_date_is_refused_with_examples() -> None:
    with pytest.raises(UsageError, match="2026-11-20T10:00"):
        parse_point_in_time("2026-02-30")
