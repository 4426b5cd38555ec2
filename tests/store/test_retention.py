"""Retention policies and forget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from entra_backup.store.errors import RetentionPolicyError
from entra_backup.store.repository import Repository
from entra_backup.store.retention import RetentionPolicy, apply_policy, forget
from entra_backup.store.snapshot import Snapshot

START = datetime(2026, 1, 1, tzinfo=UTC)


def snap(moment: datetime, name: str | None = None) -> Snapshot:
    return Snapshot("contoso", moment, "test", "host", None, {}, name or moment.isoformat())


def kept(policy: RetentionPolicy, snapshots: list[Snapshot]) -> set[str]:
    return {d.snapshot.id for d in apply_policy(snapshots, policy) if d.keep}


def test_an_empty_policy_is_refused() -> None:
    with pytest.raises(RetentionPolicyError, match="kept forever"):
        apply_policy([snap(START)], RetentionPolicy())


def test_negative_counts_are_refused() -> None:
    with pytest.raises(RetentionPolicyError):
        RetentionPolicy(keep_daily=-1)


def test_keep_daily_keeps_the_newest_of_each_day() -> None:
    snapshots = [snap(START + timedelta(hours=6 * n)) for n in range(12)]
    result = kept(RetentionPolicy(keep_daily=2), snapshots)
    assert result == {(START + timedelta(hours=18 + 24 * n)).isoformat() for n in (1, 2)}


def test_keep_within_counts_back_from_the_newest_snapshot() -> None:
    snapshots = [snap(START + timedelta(days=n)) for n in range(10)]
    result = kept(RetentionPolicy(keep_within=timedelta(days=2)), snapshots)
    assert result == {(START + timedelta(days=n)).isoformat() for n in (7, 8, 9)}


def test_calendar_rules_combine() -> None:
    snapshots = [snap(START + timedelta(days=n)) for n in range(400)]
    policy = RetentionPolicy(keep_last=1, keep_weekly=2, keep_monthly=3, keep_yearly=5)
    result = kept(policy, snapshots)
    newest = START + timedelta(days=399)
    assert newest.isoformat() in result
    assert (START + timedelta(days=364)).isoformat() in result, "the last one of 2026"
    assert len(result) <= 1 + 2 + 3 + 5


@given(
    st.lists(st.integers(min_value=0, max_value=24 * 800), min_size=1, max_size=40, unique=True),
    st.integers(min_value=0, max_value=5),
    st.integers(min_value=0, max_value=5),
    st.integers(min_value=0, max_value=5),
)
def test_policy_properties(hours: list[int], last: int, daily: int, monthly: int) -> None:
    snapshots = [snap(START + timedelta(hours=h)) for h in hours]
    policy = RetentionPolicy(keep_last=last, keep_daily=daily, keep_monthly=monthly or 1)
    decisions = apply_policy(snapshots, policy)
    result = {d.snapshot.id for d in decisions if d.keep}
    ordered = sorted(snapshots, key=lambda s: s.time, reverse=True)
    assert {s.id for s in ordered[:last]} <= result
    assert ordered[0].id in result, "the newest snapshot is always kept"
    assert len(result) <= last + daily + (monthly or 1)
    days = {s.time.date() for s in ordered}
    assert len({s.time.date() for s in ordered if s.id in result}) >= min(daily, len(days))


def test_forget_deletes_what_the_policy_does_not_keep(repo: Repository) -> None:
    times = iter(START + timedelta(days=n) for n in range(5))
    ids = []
    for number in range(5):
        with repo.writer("contoso", clock=lambda: next(times)) as writer:
            writer.add("users", "u", {"n": number})
            ids.append(writer.commit().id)
    with repo.writer("fabrikam") as writer:
        writer.add("users", "u", {"n": 0})
        other = writer.commit().id
    preview = forget(repo, RetentionPolicy(keep_last=2), dry_run=True)
    assert preview.removed == []
    assert len(repo.snapshots()) == 6
    result = forget(repo, RetentionPolicy(keep_last=2))
    assert sorted(result.removed) == sorted(ids[:3])
    assert {s.id for s in repo.snapshots()} == {ids[3], ids[4], other}
