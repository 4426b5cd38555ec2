"""Carry out a reviewed restore plan against the live tenant.

:func:`execute_plan` runs ``plan.ordered()`` (objects type by type in restore order, then
relationships, then removals), reading each stored document from the snapshot, and
returns a :class:`~entra_backup.services.restore.report.RestoreReport` with one row per
item: ``done``, ``skipped`` or ``failed`` with the reason and Graph's error. What each
action sends is in its own module (graph-facts sections 5.1-5.7):

* ``undelete``, ``update``, ``remove``: :mod:`.simple_items`;
* ``recreate``: :mod:`.recreate`;
* ``add-relationships``, ``remove-relationships``: :mod:`.edges`;
* ``skip``: nothing is sent; the item is reported skipped with the plan's reason.

Consecutive items that do not depend on each other share ``$batch`` requests of 20: simple
items of one type and action, fresh re-creations of one directory type, and bind items.
Writes go through the client, whose budget paces the write quota and the serial
Conditional Access lane, so the write quota, not the round trips, bounds a large restore.

A failed item does not stop the others, but an item that names an object whose
re-creation or undelete failed fails with "depends on <id>, which failed" (a relationship
step still writes its other edges). Authentication failures and an unreachable Graph stop
the run: the journal keeps what was done.

Before anything is sent, every id of the plan (and every new id the journal gives a
re-created object) is checked for its type's form: one malformed id refuses the whole
run (``MalformedObjectId``, :mod:`entra_backup.domain.restore.plan_ids`). Then every item
is checked against the snapshot and the plan's options (:mod:`.validate`); an item that
fails is reported failed with the reason and is not written.

Resuming: the journal (:mod:`.journal`) is read first; finished items are not sent again
and the id map is rebuilt from it, so running the same plan with the same journal after a
crash completes it without duplicates. Only journal lines that authenticate under the
repository's key count; the others are ignored (their items run again).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from entra_backup.domain.canonical import canonical_bytes
from entra_backup.domain.errors import EntraBackupError, UsageError
from entra_backup.domain.object_ids import checked_id
from entra_backup.domain.object_types import Lane, by_name
from entra_backup.domain.restore import guests
from entra_backup.domain.restore.plan import (
    Action,
    CaState,
    PlanItem,
    RestorePlan,
    bound_at_create,
)
from entra_backup.domain.restore.plan_ids import check_plan_ids
from entra_backup.graph.batch import MAX_BATCH, BatchRequest
from entra_backup.graph.client import GraphClient
from entra_backup.graph.errors import GraphClientError
from entra_backup.services.restore import edges, recreate, simple_items
from entra_backup.services.restore.context import Outcome, RunContext
from entra_backup.services.restore.ids import DependencyFailed, EarlierRestores
from entra_backup.services.restore.journal import FINISHED, Journal, JournalEntry, JournalSeal
from entra_backup.services.restore.report import (
    DONE,
    FAILED,
    SKIPPED,
    ItemResult,
    RestoreReport,
)
from entra_backup.services.restore.requests import FATAL, Write, error_json, first_line, plain
from entra_backup.services.restore.validate import InSnapshot, ItemValidator
from entra_backup.services.restore.verify import verify_run
from entra_backup.store.errors import ObjectNotFound
from entra_backup.store.repository import Repository
from entra_backup.store.snapshot import Snapshot

Progress = Callable[[PlanItem, str], None]
Keyed = list[tuple[str, PlanItem]]
_SIMPLE = frozenset({Action.UNDELETE, Action.UPDATE, Action.REMOVE})


async def execute_plan(client: GraphClient, repo: Repository, snapshot: Snapshot,
                       plan: RestorePlan, journal: Path, *, default_password: str | None,
                       ca_state: CaState = "report-only",
                       send_invitations: bool = False,
                       progress: Progress | None = None,
                       verify: EarlierRestores | None = None) -> RestoreReport:
    """Carry out ``plan`` against the tenant behind ``client``; see the module docstring.

    ``journal`` is created, or read and continued when it exists (it must belong to the
    same plan). ``send_invitations`` has Graph mail the guests it re-invites.
    ``progress(item, outcome)`` is called after each item this run executes
    has been journaled. Raises UsageError before any write when the plan re-creates users
    (not guests: they are invited) and ``default_password`` is empty, when the plan is of
    another snapshot, names an unknown type, or the journal belongs to another plan.

    With ``verify`` (what earlier restores re-created), the tenant is then read back,
    compared with the snapshot and what is still missing written in a second pass
    (:func:`.verify.verify_run`, into ``report.verification``).
    """
    if ca_state not in ("report-only", "as-backed-up"):
        raise UsageError(f"unknown Conditional Access state {ca_state!r}; "
                         "use 'report-only' or 'as-backed-up'")
    if plan.snapshot and not snapshot.id.startswith(plan.snapshot):
        raise UsageError(f"the restore plan is of snapshot {plan.snapshot}, not of "
                         f"{snapshot.short_id}")
    ordered = plan.ordered()
    keyed = list(zip(item_keys(ordered), ordered, strict=True))
    for item in ordered:
        by_name(item.type)
    check_plan_ids(plan)
    log = Journal.open(journal, {"tenant": plan.tenant, "snapshot": plan.snapshot,
                                 "plan_created_at": plan.created_at},
                       JournalSeal.for_journal(repo.keys, plan.tenant, plan.snapshot, journal))
    if not default_password and any(
            item.action is Action.RECREATE and item.type == "users"
            and not _finished(log.get(key))
            # A guest is invited: it signs in with its own account, not a password.
            and not guests.is_guest(item.type, repo.get(snapshot, item.type, item.object_id))
            for key, item in keyed):
        log.close()
        raise UsageError("the plan re-creates users: give a default password for them "
                         "(they must change it at their next sign-in)")
    ctx = RunContext(client, repo, snapshot, log, default_password or "", ca_state,
                     send_invitations)
    for old_id, live_id in plan.matched.items():
        ctx.ids.match(old_id, live_id)
    ctx.bound = bound_at_create(ordered)
    validator = ItemValidator(remove_new=plan.options.get("remove_new") is True,
                              matched=plan.matched, in_snapshot=_holds(repo, snapshot),
                              stored_document=ctx.document, recreated=ctx.ids.recreated)
    runner = _Executor(ctx, progress, validator)
    report = RestoreReport(plan.tenant, plan.snapshot, started_at=_now())
    try:
        await runner.run(keyed)
    finally:
        log.close()
        report.items = [runner.results[key] for key, _ in keyed if key in runner.results]
        report.id_map = dict(ctx.ids.recreated)
        report.app_id_map = dict(ctx.ids.app_ids)
        report.finished_at = _now()
    if verify is not None:
        report.verification = await verify_run(ctx, plan, report, verify)
    return report


def item_keys(items: Sequence[PlanItem]) -> list[str]:
    """A stable key per item: action, type, id, relationship and a digest of the edges and
    properties; a repeat of the same key in one plan gets ``#2``, ``#3`` ..."""
    seen: dict[str, int] = {}
    keys: list[str] = []
    for item in items:
        parts = [item.action.value, item.type, item.object_id]
        if item.relationship:
            parts.append(item.relationship)
        if item.edges or item.properties:
            digest = hashlib.sha256(canonical_bytes(
                {"edges": sorted(item.edges), "properties": sorted(item.properties)}))
            parts.append(digest.hexdigest()[:12])
        key = ":".join(parts)
        seen[key] = seen.get(key, 0) + 1
        keys.append(key if seen[key] == 1 else f"{key}#{seen[key]}")
    return keys


class _Executor:
    """Drives one run: picks what may share a ``$batch``, journals and reports."""

    def __init__(self, ctx: RunContext, progress: Progress | None,
                 validator: ItemValidator) -> None:
        self.ctx = ctx
        self.progress = progress
        self.validator = validator
        self.results: dict[str, ItemResult] = {}

    async def run(self, keyed: Keyed) -> None:
        for key, item in keyed:
            self._seed(key, item)
        pending = self._valid([(key, item) for key, item in keyed
                               if not _finished(self.ctx.journal.get(key))])
        index = 0
        while index < len(pending):
            group = self._group(pending, index)
            index += len(group)
            await self._run_group(group)

    def _valid(self, pending: Keyed) -> Keyed:
        """The items that pass :mod:`.validate`; the others are failed, not written."""
        valid: Keyed = []
        for key, item in pending:
            problem = self.validator.problem(item)
            if problem is None:
                valid.append((key, item))
                continue
            outcome = Outcome(FAILED, f"refused, not written: {problem}")
            self._finish(key, item, outcome)
            self._notify(item, outcome)
        return valid

    def _group(self, pending: Keyed, start: int) -> Keyed:
        """The items from ``start`` on that may share ``$batch``es (at least one)."""
        first_key, first = pending[start]
        same = self._batch_kind(first_key, first)
        group = [pending[start]]
        if same is None:
            return group
        for key, item in pending[start + 1:start + MAX_BATCH]:
            if self._batch_kind(key, item) != same or item.type != first.type:
                break
            group.append((key, item))
        return group

    def _batch_kind(self, key: str, item: PlanItem) -> str | None:
        """What kind of ``$batch`` the item may share, or None when it goes alone."""
        if by_name(item.type).lane is Lane.CONDITIONAL_ACCESS:
            # Graph's lane of one write a second refuses all but one of a batch's writes
            # at once (429 without Retry-After); alone, the client's serial lane paces them.
            return None
        if item.action in _SIMPLE:
            return item.action.value
        if recreate.batchable(item, self.ctx.journal.get(key)):
            return "recreate"
        if edges.is_bind(item):
            return "bind"
        return None

    async def _run_group(self, group: Keyed) -> None:
        if len(group) == 1:
            await self._run_one(*group[0])
            return
        kind = self._batch_kind(*group[0])
        batched: Callable[[RunContext, Keyed], Awaitable[list[tuple[str, Outcome]]]]
        batched = recreate.recreate_batch if kind == "recreate" else \
            edges.add_binds_batch if kind == "bind" else self._simple_batch
        try:
            outcomes = await batched(self.ctx, group)
        except FATAL:
            raise
        except GraphClientError:
            # The batch itself was refused: the items one by one instead.
            for key, item in group:
                await self._run_one(key, item)
            return
        items = dict(group)
        for key, outcome in outcomes:
            self._finish(key, items[key], outcome)
        for key, outcome in outcomes:
            self._notify(items[key], outcome)

    async def _run_one(self, key: str, item: PlanItem) -> None:
        outcome = await self._outcome_alone(key, item)
        self._finish(key, item, outcome)
        self._notify(item, outcome)

    async def _execute(self, key: str, item: PlanItem) -> Outcome:
        if item.action is Action.SKIP:
            return Outcome(SKIPPED, item.reason)
        if item.action is Action.RECREATE:
            return await recreate.recreate(self.ctx, key, item)
        if item.action is Action.ADD_EDGES:
            return await edges.add_edges(self.ctx, item)
        if item.action is Action.REMOVE_EDGES:
            return await edges.remove_edges(self.ctx, item)
        return await simple_items.run(self.ctx, item)

    async def _simple_batch(self, ctx: RunContext, group: Keyed) -> list[tuple[str, Outcome]]:
        """Undeletes, updates or removals of one type: prepared, then one ``$batch``."""
        outcomes: list[tuple[str, Outcome]] = []
        ready: list[tuple[str, PlanItem, Write]] = []
        for key, item in group:
            try:
                prepared = simple_items.prepare(ctx, item)
            except DependencyFailed as exc:
                prepared = Outcome(FAILED, str(exc))
            except EntraBackupError as exc:
                prepared = Outcome(FAILED, exc.message)
            if isinstance(prepared, Outcome):
                outcomes.append((key, prepared))
            elif prepared.method == "PATCH" and not plain(prepared.body):
                # Only properties written through actions: no PATCH to batch.
                outcomes.append((key, await self._outcome_alone(key, item)))
            else:
                ready.append((key, item, prepared))
        answers = await ctx.client.batch([BatchRequest(w.method, w.path, w.body, id=str(n))
                                          for n, (_, _, w) in enumerate(ready, start=1)])
        for (key, item, write), answer in zip(ready, answers, strict=True):
            body = answer.body if isinstance(answer.body, dict) else {}
            try:
                outcome = await simple_items.conclude(ctx, item, write, answer.error(), body)
            except FATAL:
                raise
            except GraphClientError as exc:
                outcome = Outcome(FAILED, first_line(exc), error=exc)
            outcomes.append((key, outcome))
        return outcomes

    async def _outcome_alone(self, key: str, item: PlanItem) -> Outcome:
        """The item sent on its own; its failure becomes its outcome."""
        try:
            return await self._execute(key, item)
        except FATAL:
            raise
        except DependencyFailed as exc:
            return Outcome(FAILED, str(exc))
        except GraphClientError as exc:
            return Outcome(FAILED, first_line(exc), error=exc)
        except EntraBackupError as exc:
            return Outcome(FAILED, exc.message)

    # --- journal, results, progress ------------------------------------------------------

    def _seed(self, key: str, item: PlanItem) -> None:
        """The id map from skipped matched objects and from the journal of earlier runs
        (a writing item's ``live_id`` is the plan's ``matched`` entry, already in the
        map, or fails validation: it must not enter the map before that)."""
        ids = self.ctx.ids
        if item.live_id and item.live_id != item.object_id and item.action is Action.SKIP:
            ids.match(item.object_id, item.live_id)
        entry = self.ctx.journal.get(key)
        if entry is None or entry.event != FINISHED:
            return
        if item.action is Action.RECREATE and entry.new_id:
            checked_id(item.type, entry.new_id,
                       f"the restore journal {self.ctx.journal.path} (item {key})")
            ids.map(item.object_id, entry.new_id, entry.old_app_id, entry.new_app_id)
            if recreate.UNBOUND in entry.flags:
                recreate.forget_binds(self.ctx, item.object_id)
        if entry.outcome in (DONE, SKIPPED):
            self.results[key] = _result(key, item, Outcome(
                str(entry.outcome), entry.reason, entry.new_id, notes=list(entry.notes),
                flags=list(entry.flags)), error=entry.error, resumed=True)

    def _finish(self, key: str, item: PlanItem, outcome: Outcome) -> None:
        error = error_json(outcome.error)
        if outcome.reason == "" and outcome.outcome != FAILED:
            outcome.reason = item.reason
        self.ctx.journal.record(JournalEntry(
            key, FINISHED, outcome.outcome, outcome.new_id, outcome.old_app_id,
            outcome.new_app_id, outcome.reason, error, tuple(outcome.notes),
            tuple(outcome.flags)))
        if outcome.outcome == FAILED and item.action in (Action.RECREATE, Action.UNDELETE) \
                and outcome.new_id is None:
            self.ctx.ids.failed.add(item.object_id)
        self.results[key] = _result(key, item, outcome, error=error)

    def _notify(self, item: PlanItem, outcome: Outcome) -> None:
        if self.progress is not None:
            self.progress(item, outcome.outcome)


def _result(key: str, item: PlanItem, outcome: Outcome, *,
            error: Mapping[str, Any] | None, resumed: bool = False) -> ItemResult:
    error = error or {}
    return ItemResult(
        key=key, action=item.action.value, type=item.type, object_id=item.object_id,
        outcome=outcome.outcome, reason=outcome.reason, display_name=item.display_name,
        relationship=item.relationship, live_id=item.live_id, new_id=outcome.new_id,
        error_status=error.get("status"), error_code=error.get("code"),
        error_message=error.get("message"), notes=list(outcome.notes),
        flags=list(outcome.flags), resumed=resumed)


def _holds(repo: Repository, snapshot: Snapshot) -> InSnapshot:
    """Whether the snapshot holds an object (by type and id)."""
    def holds(type_name: str, object_id: str) -> bool:
        try:
            repo.get(snapshot, type_name, object_id)
        except ObjectNotFound:
            return False
        return True
    return holds


def _finished(entry: JournalEntry | None) -> bool:
    """Whether the journal says the item needs nothing more (done or skipped)."""
    return entry is not None and entry.event == FINISHED and entry.outcome in (DONE, SKIPPED)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
