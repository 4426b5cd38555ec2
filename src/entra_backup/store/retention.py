"""Retention: which snapshots a policy keeps, and ``forget`` to delete the others.

Rules, as in restic: ``keep_last`` keeps the newest n; ``keep_within`` keeps every
snapshot younger than the duration, measured back from the tenant's newest snapshot (so
a tenant whose backups stopped does not lose its history as the clock runs on);
``keep_hourly`` ... ``keep_yearly`` keep the newest snapshot of each of the last n hours,
days, ISO weeks, months or years that have snapshots. A snapshot is kept if any rule keeps
it. Keeping forever is the default, so an empty policy is refused rather than read as
"keep nothing". Rules apply to each tenant separately.

Durations (``keep_within``) are written as restic writes them, a sequence of a number and
a unit: ``30d``, ``2w``, ``6m``, ``1y6m``, ``12h``. A month counts as 30 days and a year
as 365, because the rule compares with a fixed ``timedelta``.

Under S3 Object Lock a snapshot file still inside its retention period cannot be deleted:
``forget`` records it in ``ForgetResult.retained`` and goes on with the others.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from entra_backup.store.backends.base import ObjectLocked
from entra_backup.store.errors import RetentionPolicyError
from entra_backup.store.files import SNAPSHOT_PREFIX
from entra_backup.store.lock import RepositoryLock
from entra_backup.store.repository import Repository
from entra_backup.store.snapshot import Snapshot

BucketKey = Callable[[datetime], tuple[int, ...]]

_BUCKETS: dict[str, BucketKey] = {
    "hourly": lambda t: (t.year, t.month, t.day, t.hour),
    "daily": lambda t: (t.year, t.month, t.day),
    "weekly": lambda t: tuple(t.isocalendar()[:2]),
    "monthly": lambda t: (t.year, t.month),
    "yearly": lambda t: (t.year,),
}

_DURATION_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1),
                   "m": timedelta(days=30), "y": timedelta(days=365)}
_DURATION = re.compile(r"^(?:\d+[hdwmy])+$")
_DURATION_PART = re.compile(r"(\d+)([hdwmy])")
COUNT_RULES = ("keep_last", "keep_hourly", "keep_daily", "keep_weekly", "keep_monthly",
               "keep_yearly")
"""The rules that take a count, in the order they are shown."""


def parse_duration(text: str) -> timedelta:
    """``30d``, ``2w``, ``6m``, ``1y6m``, ``12h`` as a timedelta; RetentionPolicyError else."""
    compact = text.strip().lower()
    if not _DURATION.match(compact):
        raise RetentionPolicyError(
            f"keep-within {text!r} is not a duration: give a number and a unit "
            "(h, d, w, m, y), for example 30d, 2w, 6m or 1y6m")
    total = sum((int(count) * _DURATION_UNITS[unit]
                 for count, unit in _DURATION_PART.findall(compact)), timedelta(0))
    if total <= timedelta(0):
        raise RetentionPolicyError(f"keep-within {text!r} must be longer than zero")
    return total


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """Counts of snapshots to keep per rule; zero or None means the rule is off."""

    keep_last: int = 0
    keep_within: timedelta | None = None
    keep_hourly: int = 0
    keep_daily: int = 0
    keep_weekly: int = 0
    keep_monthly: int = 0
    keep_yearly: int = 0

    def __post_init__(self) -> None:
        counts = [self.keep_last, *self.bucket_counts().values()]
        if any(count < 0 for count in counts):
            raise RetentionPolicyError("retention counts cannot be negative")
        if self.keep_within is not None and self.keep_within <= timedelta(0):
            raise RetentionPolicyError("keep-within must be a positive duration")

    def is_empty(self) -> bool:
        """Whether no rule is set."""
        return (
            self.keep_last == 0
            and self.keep_within is None
            and not any(self.bucket_counts().values())
        )

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> RetentionPolicy:
        """A policy from its stored form (``to_json``); RetentionPolicyError if malformed."""
        unknown = set(value) - {*COUNT_RULES, "keep_within"}
        if unknown:
            raise RetentionPolicyError(f"unknown retention rule(s): {', '.join(sorted(unknown))}")
        counts: dict[str, int] = {}
        for rule in COUNT_RULES:
            count = value.get(rule, 0)
            if not isinstance(count, int) or isinstance(count, bool):
                raise RetentionPolicyError(f"{rule} must be a whole number, not {count!r}")
            counts[rule] = count
        within = value.get("keep_within")
        if within is not None and not isinstance(within, str):
            raise RetentionPolicyError(f"keep_within must be a duration text, not {within!r}")
        return cls(keep_within=None if within is None else parse_duration(within), **counts)

    def to_json(self) -> dict[str, Any]:
        """The rules that are set (``keep_within`` as whole hours or days, e.g. ``30d``)."""
        stored: dict[str, Any] = {rule: getattr(self, rule) for rule in COUNT_RULES
                                  if getattr(self, rule)}
        if self.keep_within is not None:
            stored["keep_within"] = format_duration(self.keep_within)
        return stored

    def bucket_counts(self) -> dict[str, int]:
        """Counts of the calendar rules by bucket name."""
        return {
            "hourly": self.keep_hourly,
            "daily": self.keep_daily,
            "weekly": self.keep_weekly,
            "monthly": self.keep_monthly,
            "yearly": self.keep_yearly,
        }


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether one snapshot is kept, and by which rules."""

    snapshot: Snapshot
    reasons: tuple[str, ...]

    @property
    def keep(self) -> bool:
        """Kept if any rule keeps it."""
        return bool(self.reasons)


def apply_policy(snapshots: Sequence[Snapshot], policy: RetentionPolicy) -> list[Decision]:
    """Decide for one tenant's snapshots, newest first; refuse an empty policy."""
    if policy.is_empty():
        raise RetentionPolicyError(
            "the retention policy is empty; snapshots are kept forever unless a rule is given"
        )
    ordered = sorted(snapshots, key=lambda s: (s.time, s.id), reverse=True)
    reasons: dict[str, list[str]] = defaultdict(list)
    for snapshot in ordered[: policy.keep_last]:
        reasons[snapshot.id].append("last")
    if policy.keep_within is not None and ordered:
        horizon = _utc(ordered[0].time) - policy.keep_within
        for snapshot in ordered:
            if _utc(snapshot.time) >= horizon:
                reasons[snapshot.id].append("within")
    for name, count in policy.bucket_counts().items():
        _keep_buckets(ordered, name, count, reasons)
    return [Decision(s, tuple(reasons.get(s.id, ()))) for s in ordered]


def _keep_buckets(
    ordered: list[Snapshot], name: str, count: int, reasons: dict[str, list[str]]
) -> None:
    bucket_of = _BUCKETS[name]
    seen: set[tuple[int, ...]] = set()
    for snapshot in ordered:
        if len(seen) >= count:
            return
        bucket = bucket_of(_utc(snapshot.time))
        if bucket not in seen:
            seen.add(bucket)
            reasons[snapshot.id].append(name)


def format_duration(value: timedelta) -> str:
    """A duration as ``parse_duration`` reads it: whole days (``30d``) or hours (``36h``)."""
    hours = int(value.total_seconds() // 3600)
    return f"{hours // 24}d" if hours % 24 == 0 else f"{hours}h"


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass
class ForgetResult:
    """Decisions per tenant, the snapshots removed, and those Object Lock still retains."""

    decisions: dict[str, list[Decision]] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    retained: dict[str, str] = field(default_factory=dict)
    """Snapshot id -> the storage's refusal (Object Lock retention not yet over)."""


def forget(
    repo: Repository,
    policy: RetentionPolicy,
    *,
    tenant: str | None = None,
    dry_run: bool = False,
    lock: RepositoryLock | None = None,
) -> ForgetResult:
    """Delete the snapshots the policy does not keep (data stays until ``prune``)."""
    result = ForgetResult()
    by_tenant: dict[str, list[Snapshot]] = defaultdict(list)
    for snapshot in repo.snapshots(tenant):
        by_tenant[snapshot.tenant].append(snapshot)
    for name, snapshots in sorted(by_tenant.items()):
        result.decisions[name] = apply_policy(snapshots, policy)
    doomed = [d.snapshot.id for ds in result.decisions.values() for d in ds if not d.keep]
    if not dry_run:
        delete_snapshots(repo, doomed, result, lock=lock)
    return result


def delete_snapshots(
    repo: Repository,
    snapshot_ids: Sequence[str],
    result: ForgetResult,
    *,
    lock: RepositoryLock | None = None,
) -> None:
    """Delete snapshot files under the lock; ones Object Lock retains go to ``retained``."""
    if not snapshot_ids:
        return
    own = lock is None
    held = lock if lock is not None else RepositoryLock(repo.backend)
    if own:
        held.acquire()
        held.start_refreshing()
    try:
        for snapshot_id in snapshot_ids:
            held.ensure_held()
            try:
                repo.backend.delete(SNAPSHOT_PREFIX + snapshot_id)
            except ObjectLocked as exc:
                result.retained[snapshot_id] = str(exc)
                continue
            repo.forget_cached(snapshot_id)
            result.removed.append(snapshot_id)
    finally:
        if own:
            held.release()
