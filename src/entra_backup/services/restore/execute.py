"""Carry out a reviewed restore plan against the live tenant.

:func:`execute_plan` runs ``plan.ordered()`` item by item (objects type by type in restore
order, then relationships, then removals), reading each stored document from the
snapshot, and returns a :class:`RestoreReport` with one row per item: ``done``,
``skipped`` or ``failed`` with the reason and Graph's error.

What each action sends (graph-facts sections 5.1-5.7):

* ``undelete``: ``POST /directory/deletedItems/{id}/restore``; the id stays. An object that
  is already live again (a run stopped before its journal line) counts as done.
* ``recreate``: ``POST {type path}`` of the stored document without the type's
  ``strip_on_create`` properties, relationships, ``create_only_later`` properties (sent by
  a ``PATCH`` right after), annotations (``@odata.type`` is kept for polymorphic types such
  as named locations), nulls and the properties the plan leaves out. Every id in the body
  that names an object re-created earlier in the run is rewritten to the new id (an
  application's ``appId`` to the new ``appId``). Users get a new ``passwordProfile`` with
  ``default_password`` and a forced change; Conditional Access policies start in
  report-only state unless ``ca_state="as-backed-up"`` (a disabled one stays disabled);
  an application's ``api://{appId}`` identifier URIs are set after the create, with the
  new ``appId``; certificates whose key was not backed up are left out and noted.
* ``update``: ``PATCH`` of ``item.properties`` with their stored values (ids remapped);
  ``assignedLicenses`` through the type's ``assignLicense`` action, computed against the
  live licences; a singleton (the authorization policy) is patched at its path.
* ``add-relationships``: ``@odata.bind`` in ``PATCH``es of up to 20 targets, ``$ref``
  (``PUT`` for the manager) or a new entity (app role assignments, scoped role members),
  with the source and target ids mapped. A link that already exists counts as done.
  The replication-lag answer after a create ("... do not exist") is retried a few times
  with a short backoff on the client's clock.
* ``remove-relationships``: ``DELETE {relationship path}/{target}/$ref``; ``remove``:
  ``DELETE {type path}/{id}`` (soft delete). Already gone counts as done.
* ``skip``: nothing is sent; the item is reported skipped with the plan's reason.

Simple independent writes of one type and action (undeletes, plain updates, removals) go
20 to a ``$batch``. Writes go through the client, whose budget paces the write quota and
the serial Conditional Access lane.

A failed item does not stop the others, but an item that names an object whose
re-creation or undelete failed fails with "depends on <id>, which failed" (a relationship
step still writes its other edges). Authentication failures and an unreachable Graph stop
the run: the journal keeps what was done.

Resuming: the journal (``journal.py``) is read first; finished items are not sent again
and the id map is rebuilt from it, so running the same plan with the same journal after a
crash completes it without duplicates. A re-creation that was sent but not journaled is
looked for by its natural key (UPN, mailNickname, displayName ...) before it is sent again.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, Literal, TypeVar

from entra_backup.domain.canonical import canonical_bytes
from entra_backup.domain.errors import EntraBackupError, UsageError
from entra_backup.domain.object_types import ObjectType, Relationship, WriteForm, by_name
from entra_backup.domain.restore.plan import Action, PlanItem, RestorePlan
from entra_backup.graph.batch import MAX_BATCH, BatchRequest
from entra_backup.graph.client import GraphClient
from entra_backup.graph.errors import (
    AuthenticationError,
    BadRequest,
    GraphClientError,
    NotFound,
    TransportError,
)
from entra_backup.services.restore.journal import (
    FINISHED,
    STARTED,
    Journal,
    JournalEntry,
)
from entra_backup.store.repository import Repository
from entra_backup.store.snapshot import Snapshot

DONE = "done"
SKIPPED = "skipped"
FAILED = "failed"
REPORT_ONLY = "enabledForReportingButNotEnforced"
NEEDS_ENABLING = "needs-enabling"
NEEDS_SECRETS = "needs-new-client-secrets"
CaState = Literal["report-only", "as-backed-up"]
Progress = Callable[[PlanItem, str], None]

LAG_ATTEMPTS = 5
LAG_FIRST_DELAY = 1.0
"""Replication lag: 5 tries, 1 + 2 + 4 + 8 s apart (graph-facts 5.4)."""
_LAG = re.compile(r"do(es)? not exist|does not reference a valid application", re.IGNORECASE)
_ALREADY = re.compile(r"already exist", re.IGNORECASE)
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_FATAL = (AuthenticationError, TransportError)
"""Errors that stop the run: every later item would meet them too."""
_BATCHED = frozenset({Action.UNDELETE, Action.UPDATE, Action.REMOVE})
CSV_COLUMNS = ("key", "action", "type", "object_id", "display_name", "relationship",
               "outcome", "reason", "new_id", "error_status", "error_code", "error_message",
               "notes", "resumed")

T = TypeVar("T")


# --- the report ------------------------------------------------------------------------


@dataclass
class ItemResult:
    """What happened to one plan item."""

    key: str
    action: str
    type: str
    object_id: str
    outcome: str
    reason: str = ""
    display_name: str | None = None
    relationship: str | None = None
    live_id: str | None = None
    new_id: str | None = None
    error_status: int | None = None
    error_code: str | None = None
    error_message: str | None = None
    notes: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    resumed: bool = False
    """True when the outcome comes from the journal of an earlier run."""


@dataclass
class RestoreReport:
    """Every item's outcome, the id map, and what an administrator must do next."""

    tenant: str
    snapshot: str
    started_at: str
    finished_at: str = ""
    items: list[ItemResult] = field(default_factory=list)
    id_map: dict[str, str] = field(default_factory=dict)
    """Old id -> new id of every re-created object."""
    app_id_map: dict[str, str] = field(default_factory=dict)
    """Old appId -> new appId of every re-created application."""

    @property
    def counts(self) -> dict[str, int]:
        """Items per outcome, and in all."""
        counted = {DONE: 0, SKIPPED: 0, FAILED: 0}
        for item in self.items:
            counted[item.outcome] = counted.get(item.outcome, 0) + 1
        return {**counted, "total": len(self.items)}

    @property
    def ok(self) -> bool:
        """Whether no item failed."""
        return all(item.outcome != FAILED for item in self.items)

    @property
    def failed(self) -> list[ItemResult]:
        return [item for item in self.items if item.outcome == FAILED]

    @property
    def needs_enabling(self) -> list[ItemResult]:
        """Conditional Access policies created in report-only state that were enabled."""
        return [item for item in self.items if NEEDS_ENABLING in item.flags]

    @property
    def needs_new_secrets(self) -> list[ItemResult]:
        """Re-created applications that had client secrets (which cannot be restored)."""
        return [item for item in self.items if NEEDS_SECRETS in item.flags]

    def to_json(self) -> dict[str, Any]:
        """The report as ``restore --json`` prints it."""
        def brief(item: ItemResult) -> dict[str, Any]:
            return {"type": item.type, "object_id": item.object_id, "new_id": item.new_id,
                    "display_name": item.display_name}

        return {"tenant": self.tenant, "snapshot": self.snapshot,
                "started_at": self.started_at, "finished_at": self.finished_at,
                "ok": self.ok, "counts": self.counts, "id_map": dict(self.id_map),
                "app_id_map": dict(self.app_id_map),
                "needs_enabling": [brief(i) for i in self.needs_enabling],
                "needs_new_client_secrets": [brief(i) for i in self.needs_new_secrets],
                "items": [asdict(item) for item in self.items]}

    def to_csv(self) -> str:
        """One header line and one row per item."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for item in self.items:
            row = asdict(item)
            row["notes"] = "; ".join(item.notes)
            row["resumed"] = "yes" if item.resumed else ""
            writer.writerow(["" if row[c] is None else row[c] for c in CSV_COLUMNS])
        return out.getvalue()


# --- entry point -----------------------------------------------------------------------


async def execute_plan(client: GraphClient, repo: Repository, snapshot: Snapshot,
                       plan: RestorePlan, journal: Path, *, default_password: str | None,
                       ca_state: CaState = "report-only",
                       progress: Progress | None = None) -> RestoreReport:
    """Carry out ``plan`` against the tenant behind ``client``; see the module docstring.

    ``journal`` is created, or read and continued when it exists (it must belong to the
    same plan). ``progress(item, outcome)`` is called after each item this run executes
    has been journaled. Raises UsageError before any write when the plan re-creates users
    and ``default_password`` is empty, when the plan is of another snapshot, names an
    unknown type, or the journal belongs to another plan.
    """
    if ca_state not in ("report-only", "as-backed-up"):
        raise UsageError(f"unknown Conditional Access state {ca_state!r}; "
                         "use 'report-only' or 'as-backed-up'")
    if plan.snapshot and not snapshot.id.startswith(plan.snapshot):
        raise UsageError(f"the restore plan is of snapshot {plan.snapshot}, not of "
                         f"{snapshot.short_id}")
    ordered = plan.ordered()
    keys = item_keys(ordered)
    for item in ordered:
        by_name(item.type)
    log = Journal.open(journal, {"tenant": plan.tenant, "snapshot": plan.snapshot,
                                 "plan_created_at": plan.created_at})
    if not default_password and any(
            item.action is Action.RECREATE and item.type == "users"
            and not _finished(log.get(key)) for key, item in zip(keys, ordered, strict=True)):
        raise UsageError("the plan re-creates users: give a default password for them "
                         "(they must change it at their next sign-in)")
    runner = _Executor(client, repo, snapshot, log, default_password=default_password or "",
                       ca_state=ca_state, progress=progress)
    report = RestoreReport(plan.tenant, plan.snapshot, started_at=_now())
    try:
        await runner.run(list(zip(keys, ordered, strict=True)))
    finally:
        log.close()
        report.items = [runner.results[key] for key in keys if key in runner.results]
        report.id_map = dict(runner.recreated)
        report.app_id_map = dict(runner.app_ids)
        report.finished_at = _now()
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


# --- the executor ----------------------------------------------------------------------


@dataclass
class _Outcome:
    outcome: str
    reason: str = ""
    new_id: str | None = None
    old_app_id: str | None = None
    new_app_id: str | None = None
    error: GraphClientError | None = None
    notes: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)


@dataclass
class _Write:
    """One request of a simple item, sent alone or in a ``$batch``."""

    method: str
    path: str
    body: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)


class _DependencyFailed(Exception):
    def __init__(self, object_id: str) -> None:
        super().__init__(f"depends on {object_id}, which failed")
        self.object_id = object_id


class _Executor:
    def __init__(self, client: GraphClient, repo: Repository, snapshot: Snapshot,
                 journal: Journal, *, default_password: str, ca_state: CaState,
                 progress: Progress | None) -> None:
        self.client = client
        self.repo = repo
        self.snapshot = snapshot
        self.journal = journal
        self.default_password = default_password
        self.ca_state = ca_state
        self.progress = progress
        self.graph_url = client.transport.graph_url
        self.results: dict[str, ItemResult] = {}
        self.ids: dict[str, str] = {}
        """Every old id -> the id it has in the tenant now (re-created or matched)."""
        self.recreated: dict[str, str] = {}
        self.app_ids: dict[str, str] = {}
        self.failed: set[str] = set()
        """Old ids of objects whose re-creation or undelete failed in this run."""
        self.created: set[str] = set()
        """New ids created in this run (a 404 naming one is replication lag)."""

    # --- driving ------------------------------------------------------------------------

    async def run(self, items: list[tuple[str, PlanItem]]) -> None:
        for key, item in items:
            self._seed(key, item)
        index = 0
        while index < len(items):
            key, item = items[index]
            index += 1
            if _finished(self.journal.get(key)):
                continue
            if item.action not in _BATCHED:
                await self._run_one(key, item)
                continue
            # One type and one action: independent of each other, so one $batch.
            group = [(key, item)]
            while index < len(items) and len(group) < MAX_BATCH:
                next_key, following = items[index]
                if _finished(self.journal.get(next_key)):
                    index += 1
                    continue
                if following.action is not item.action or following.type != item.type:
                    break
                group.append((next_key, following))
                index += 1
            if len(group) == 1:
                await self._run_one(key, item)
            else:
                await self._run_group(group)

    def _seed(self, key: str, item: PlanItem) -> None:
        """The id map from matched objects and from the journal of earlier runs."""
        if item.live_id and item.live_id != item.object_id and \
                item.action in (Action.UPDATE, Action.SKIP):
            self.ids[item.object_id] = item.live_id
        entry = self.journal.get(key)
        if entry is None or entry.event != FINISHED:
            return
        if item.action is Action.RECREATE and entry.new_id:
            self._map(item.object_id, entry.new_id, entry.old_app_id, entry.new_app_id)
        if entry.outcome in (DONE, SKIPPED):
            self.results[key] = self._result(key, item, _Outcome(
                str(entry.outcome), entry.reason, entry.new_id, notes=list(entry.notes),
                flags=list(entry.flags)), error=entry.error, resumed=True)

    async def _run_one(self, key: str, item: PlanItem) -> None:
        try:
            outcome = await self._execute(key, item)
        except _FATAL:
            raise
        except _DependencyFailed as exc:
            outcome = _Outcome(FAILED, str(exc))
        except GraphClientError as exc:
            outcome = _Outcome(FAILED, _first_line(exc), error=exc)
        except EntraBackupError as exc:
            outcome = _Outcome(FAILED, exc.message)
        self._finish(key, item, outcome)
        self._notify(item, outcome)

    async def _run_group(self, group: list[tuple[str, PlanItem]]) -> None:
        """Simple items of one type and action: prepared, sent in one ``$batch``, journaled
        together, then reported to ``progress``."""
        ready: list[tuple[str, PlanItem, _Write]] = []
        for key, item in group:
            try:
                prepared = self._prepare(item)
            except _DependencyFailed as exc:
                prepared = _Outcome(FAILED, str(exc))
            except EntraBackupError as exc:
                prepared = _Outcome(FAILED, exc.message)
            if isinstance(prepared, _Outcome):
                self._finish(key, item, prepared)
                self._notify(item, prepared)
            elif prepared.method == "PATCH" and not _plain(prepared.body):
                # Only properties written through actions: no PATCH to batch.
                await self._run_one(key, item)
            else:
                ready.append((key, item, prepared))
        if not ready:
            return
        requests = [BatchRequest(w.method, w.path, w.body, id=str(n))
                    for n, (_, _, w) in enumerate(ready, start=1)]
        try:
            answers = await self.client.batch(requests)
        except _FATAL:
            raise
        except GraphClientError:
            # The batch itself was refused: send the items one by one instead.
            for key, item, _ in ready:
                await self._run_one(key, item)
            return
        done: list[tuple[PlanItem, _Outcome]] = []
        for (key, item, write), answer in zip(ready, answers, strict=True):
            body = answer.body if isinstance(answer.body, dict) else {}
            try:
                outcome = await self._conclude(item, write, answer.error(), body)
            except _FATAL:
                raise
            except GraphClientError as exc:
                outcome = _Outcome(FAILED, _first_line(exc), error=exc)
            self._finish(key, item, outcome)
            done.append((item, outcome))
        for item, outcome in done:
            self._notify(item, outcome)

    def _finish(self, key: str, item: PlanItem, outcome: _Outcome) -> None:
        error = _error_json(outcome.error)
        if outcome.reason == "" and outcome.outcome != FAILED:
            outcome.reason = item.reason
        self.journal.record(JournalEntry(
            key, FINISHED, outcome.outcome, outcome.new_id, outcome.old_app_id,
            outcome.new_app_id, outcome.reason, error, tuple(outcome.notes),
            tuple(outcome.flags)))
        if outcome.outcome == FAILED and item.action in (Action.RECREATE, Action.UNDELETE) \
                and outcome.new_id is None:
            self.failed.add(item.object_id)
        self.results[key] = self._result(key, item, outcome, error=error)

    def _notify(self, item: PlanItem, outcome: _Outcome) -> None:
        if self.progress is not None:
            self.progress(item, outcome.outcome)

    @staticmethod
    def _result(key: str, item: PlanItem, outcome: _Outcome, *,
                error: Mapping[str, Any] | None, resumed: bool = False) -> ItemResult:
        error = error or {}
        return ItemResult(
            key=key, action=item.action.value, type=item.type, object_id=item.object_id,
            outcome=outcome.outcome, reason=outcome.reason, display_name=item.display_name,
            relationship=item.relationship, live_id=item.live_id, new_id=outcome.new_id,
            error_status=error.get("status"), error_code=error.get("code"),
            error_message=error.get("message"), notes=list(outcome.notes),
            flags=list(outcome.flags), resumed=resumed)

    async def _execute(self, key: str, item: PlanItem) -> _Outcome:
        if item.action is Action.SKIP:
            return _Outcome(SKIPPED, item.reason)
        if item.action is Action.RECREATE:
            return await self._recreate(key, item)
        if item.action is Action.ADD_EDGES:
            return await self._add_edges(item)
        if item.action is Action.REMOVE_EDGES:
            return await self._remove_edges(item)
        prepared = self._prepare(item)
        if isinstance(prepared, _Outcome):
            return prepared
        if item.action is Action.UPDATE:
            return await self._update(item, prepared)
        try:
            answer = await self._send(prepared)
        except _FATAL:
            raise
        except GraphClientError as exc:
            return await self._conclude(item, prepared, exc, {})
        return await self._conclude(item, prepared, None, answer)

    # --- simple items: undelete, update, remove ---------------------------------------

    def _prepare(self, item: PlanItem) -> _Write | _Outcome:
        object_type = by_name(item.type)
        if item.action is Action.UNDELETE:
            return _Write("POST", f"/directory/deletedItems/{item.object_id}/restore")
        if item.action is Action.REMOVE:
            if object_type.singleton:
                return _Outcome(FAILED, f"{item.type} is a singleton and cannot be removed")
            return _Write("DELETE", f"{object_type.path}/{item.object_id}")
        return self._update_write(object_type, item)

    async def _conclude(self, item: PlanItem, write: _Write, error: GraphClientError | None,
                        answer: Mapping[str, Any]) -> _Outcome:
        notes = list(write.notes)
        if item.action is Action.UNDELETE:
            if error is None:
                restored = str(answer.get("id") or item.object_id)
                self.ids[item.object_id] = restored
                return _Outcome(DONE, new_id=restored, notes=notes)
            if isinstance(error, NotFound) and await self._is_live(item):
                self.ids[item.object_id] = item.object_id
                return _Outcome(DONE, new_id=item.object_id,
                                notes=[*notes, "already restored"])
            return _Outcome(FAILED, _first_line(error), error=error, notes=notes)
        if item.action is Action.REMOVE and isinstance(error, NotFound):
            return _Outcome(DONE, notes=[*notes, "already gone"])
        if error is not None:
            return _Outcome(FAILED, _first_line(error), error=error, notes=notes)
        if item.action is Action.UPDATE:
            return await self._update_actions(item, notes)
        return _Outcome(DONE, notes=notes)

    async def _is_live(self, item: PlanItem) -> bool:
        path = f"{by_name(item.type).path}/{item.object_id}"
        try:
            await self.client.get(path, {"$select": "id"})
        except NotFound:
            return False
        return True

    def _update_write(self, object_type: ObjectType, item: PlanItem) -> _Write | _Outcome:
        document = self._document(item)
        target = self._live(item.object_id, item.live_id)
        actions = dict(object_type.property_actions)
        relationships = {r.name for r in object_type.relationships}
        body: dict[str, Any] = {}
        notes: list[str] = []
        for name in item.properties:
            if name in actions:
                continue
            if name in object_type.strip_on_update or name in relationships:
                notes.append(f"{name} is not writable by an update; left out")
            elif name not in document:
                notes.append(f"{name} is not in the snapshot; left out")
            else:
                body[name] = document[name]
        body = self._remapped(body)
        if not body and not any(name in actions for name in item.properties):
            return _Outcome(DONE, "nothing left to write", notes=notes)
        if object_type.derived_types and "@odata.type" in document:
            body["@odata.type"] = document["@odata.type"]
        path = object_type.path if object_type.singleton else f"{object_type.path}/{target}"
        return _Write("PATCH", path, body, notes)

    async def _update(self, item: PlanItem, write: _Write) -> _Outcome:
        if _plain(write.body):
            try:
                await self._send(write)
            except _FATAL:
                raise
            except GraphClientError as exc:
                return await self._conclude(item, write, exc, {})
        return await self._update_actions(item, list(write.notes))

    async def _update_actions(self, item: PlanItem, notes: list[str]) -> _Outcome:
        """Properties written through an action (``assignedLicenses``)."""
        object_type = by_name(item.type)
        actions = dict(object_type.property_actions)
        target = self._live(item.object_id, item.live_id)
        for name in item.properties:
            if name not in actions:
                continue
            if name != "assignedLicenses":
                notes.append(f"{name} is written through {actions[name]}, which a restore "
                             "does not call; left out")
                continue
            document = self._document(item)
            try:
                live = await self.client.get(f"{object_type.path}/{target}",
                                             {"$select": "assignedLicenses"})
            except _FATAL:
                raise
            except GraphClientError as exc:
                notes.append(f"licences not restored: the live licences could not be read "
                             f"({_first_line(exc)})")
                continue
            change = license_change(document.get("assignedLicenses"),
                                    live.get("assignedLicenses"))
            if change is None:
                continue
            await self.client.post(actions[name].format(id=target), change)
        return _Outcome(DONE, notes=notes)

    # --- re-creation --------------------------------------------------------------------

    async def _recreate(self, key: str, item: PlanItem) -> _Outcome:
        object_type = by_name(item.type)
        if object_type.singleton:
            return _Outcome(FAILED, f"{item.type} is a singleton; it is updated, not re-created")
        document = self._document(item)
        body, later, notes, flags = self._create_body(object_type, item, document)
        old_app_id = document.get("appId") if isinstance(document.get("appId"), str) else None
        entry = self.journal.get(key)
        new_id = new_app_id = None
        if entry is not None and entry.event == FINISHED:
            # Created by an earlier run whose later step failed: only that step again.
            new_id, new_app_id = entry.new_id, entry.new_app_id
        if new_id is None and entry is not None and entry.event == STARTED:
            found = await self._find_existing(object_type, document)
            if found is not None:
                new_id, new_app_id = found
                notes.append("created by an interrupted run; found by its natural key")
        if new_id is None:
            self.journal.record(JournalEntry(key, STARTED))
            created = await self._lagging(partial(self.client.post, object_type.path, body),
                                          body_ids(body))
            new_id = str(created["id"])
            new_app_id = created.get("appId") if isinstance(created.get("appId"), str) \
                else None
            self.created.add(new_id)
        self._map(item.object_id, new_id, old_app_id, new_app_id)
        outcome = _Outcome(DONE, new_id=new_id, old_app_id=old_app_id, new_app_id=new_app_id,
                           notes=notes, flags=flags)
        if old_app_id and new_app_id and later.get("identifierUris"):
            later["identifierUris"] = [uri.replace(old_app_id, new_app_id)
                                       for uri in later["identifierUris"]]
        if later:
            path = f"{object_type.path}/{new_id}"
            if object_type.derived_types and "@odata.type" in document:
                later = {"@odata.type": document["@odata.type"], **later}
            try:
                await self._lagging(partial(self.client.patch, path, later), [new_id])
            except _FATAL:
                raise
            except GraphClientError as exc:
                # Created, so the id stays mapped; a new run sends only this PATCH again.
                outcome.outcome = FAILED
                outcome.reason = (f"created as {new_id}, but setting "
                                  f"{', '.join(sorted(later))} failed: {_first_line(exc)}")
                outcome.error = exc
        return outcome

    def _create_body(self, object_type: ObjectType, item: PlanItem, document: dict[str, Any]
                     ) -> tuple[dict[str, Any], dict[str, Any], list[str], list[str]]:
        """The POST body, the properties PATCHed right after, notes and report flags."""
        relationships = {r.name for r in object_type.relationships}
        actions = {name for name, _ in object_type.property_actions}
        left_out = set(object_type.strip_on_create) | relationships | set(item.properties)
        keep_type = bool(object_type.derived_types)
        body: dict[str, Any] = {}
        later: dict[str, Any] = {}
        notes: list[str] = []
        flags: list[str] = []
        for name, value in document.items():
            if "@" in name:
                if name == "@odata.type" and keep_type:
                    body[name] = value
                continue
            if name in left_out or name in actions or value is None:
                continue
            if name in object_type.create_only_later:
                later[name] = value
            else:
                body[name] = value
        if object_type.name == "users":
            self._user_body(body, document, notes)
        elif object_type.name == "applications":
            _application_body(body, later, document, notes, flags)
        elif object_type.name == "conditionalAccessPolicies":
            self._policy_body(body, document, notes, flags)
        return self._remapped(body), self._remapped(later), notes, flags

    def _user_body(self, body: dict[str, Any], document: Mapping[str, Any],
                   notes: list[str]) -> None:
        body["passwordProfile"] = {"forceChangePasswordNextSignIn": True,
                                   "password": self.default_password}
        identities = [i for i in body.get("identities") or []
                      if isinstance(i, dict) and i.get("signInType") != "userPrincipalName"]
        # The userPrincipalName identity is the directory's own; it follows the UPN.
        if identities:
            body["identities"] = identities
        else:
            body.pop("identities", None)
        licences = [str(lic.get("skuId")) for lic in document.get("assignedLicenses") or []
                    if isinstance(lic, dict)]
        if licences:
            notes.append(f"licences to assign again: {', '.join(licences)}")
        notes.append("new password: the default one, to be changed at the next sign-in; "
                     "authentication methods must be registered again")

    def _policy_body(self, body: dict[str, Any], document: Mapping[str, Any],
                     notes: list[str], flags: list[str]) -> None:
        stored = document.get("state")
        if self.ca_state == "as-backed-up" or stored in ("disabled", REPORT_ONLY):
            return
        body["state"] = REPORT_ONLY
        notes.append(f"created in report-only state (it was {stored}); review its sign-in "
                     "reports, then enable it")
        flags.append(NEEDS_ENABLING)

    async def _find_existing(self, object_type: ObjectType, document: Mapping[str, Any]
                             ) -> tuple[str, str | None] | None:
        """The object an interrupted run may have created, by the first natural key that
        finds exactly one; None when none finds any. Several matches fail the item."""
        select = "id,appId" if "appId" in object_type.select else "id"
        for names in object_type.natural_keys:
            if names == ("id",):
                continue
            values = [document.get(name) for name in names]
            if not all(isinstance(v, str) and v for v in values):
                continue
            text = " and ".join(f"{name} eq '{str(value).replace(chr(39), chr(39) * 2)}'"
                                for name, value in zip(names, values, strict=True))
            try:
                page = await self.client.get(object_type.path,
                                             {"$filter": text, "$select": select})
            except _FATAL:
                raise
            except GraphClientError:
                continue
            found = [o for o in page.get("value") or [] if isinstance(o, dict)]
            if len(found) == 1:
                app_id = found[0].get("appId")
                return str(found[0]["id"]), app_id if isinstance(app_id, str) else None
            if len(found) > 1:
                raise UsageError(f"an interrupted run may have created this object, and "
                                 f"{len(found)} objects match {text}; remove the extra one "
                                 "and run the restore again")
        return None

    # --- relationships ------------------------------------------------------------------

    async def _add_edges(self, item: PlanItem) -> _Outcome:
        object_type = by_name(item.type)
        relationship = self._relationship(object_type, item)
        if not relationship.restorable:
            return _Outcome(SKIPPED, relationship.not_restorable_reason or
                            f"{relationship.name} is not written by a restore")
        if item.object_id in self.failed:
            raise _DependencyFailed(item.object_id)
        source = self._live(item.object_id, item.live_id)
        blocked = [t for t in item.edges if t in self.failed]
        targets = [t for t in item.edges if t not in self.failed]
        errors: list[tuple[str, GraphClientError]] = []
        notes: list[str] = []
        if relationship.write is WriteForm.BIND:
            await self._bind(object_type, relationship, source, targets, errors)
        elif relationship.write is WriteForm.REF:
            for target in targets:
                await self._ref(relationship, source, target, errors)
        else:
            blocked += await self._entities(item, relationship, source, targets, errors)
        return _edge_outcome(item, blocked, errors, notes)

    async def _bind(self, object_type: ObjectType, relationship: Relationship, source: str,
                    targets: list[str], errors: list[tuple[str, GraphClientError]]) -> None:
        size = max(1, relationship.max_per_request)
        for start in range(0, len(targets), size):
            chunk = targets[start:start + size]
            mapped = [self._live(t) for t in chunk]
            body = {f"{relationship.name}@odata.bind":
                    [f"{self.graph_url}/directoryObjects/{t}" for t in mapped]}
            path = f"{object_type.path}/{source}"
            try:
                await self._lagging(partial(self.client.patch, path, body), [source, *mapped])
            except _FATAL:
                raise
            except GraphClientError as exc:
                if len(chunk) == 1:
                    if not _already(exc):
                        errors.append((chunk[0], exc))
                elif isinstance(exc, (BadRequest, NotFound)):
                    # One missing or already linked target refuses the whole list (a run
                    # stopped half-way, a target deleted since): one at a time instead.
                    for target in chunk:
                        await self._ref(relationship, source, target, errors)
                else:
                    errors.extend((target, exc) for target in chunk)

    async def _ref(self, relationship: Relationship, source: str, target: str,
                   errors: list[tuple[str, GraphClientError]]) -> None:
        mapped = self._live(target)
        path = relationship.path.format(id=source) + "/$ref"
        body = {"@odata.id": f"{self.graph_url}/directoryObjects/{mapped}"}
        method = "PUT" if relationship.single_valued else "POST"
        try:
            await self._lagging(partial(self._send, _Write(method, path, body)),
                                [source, mapped])
        except _FATAL:
            raise
        except GraphClientError as exc:
            if not _already(exc):
                errors.append((target, exc))

    async def _entities(self, item: PlanItem, relationship: Relationship, source: str,
                        targets: list[str], errors: list[tuple[str, GraphClientError]]
                        ) -> list[str]:
        """Edges written as new entities; returns the ids of failed dependencies met."""
        document = self._document(item)
        stored = [e for e in document.get(relationship.name) or [] if isinstance(e, dict)]
        blocked: list[str] = []
        for target in targets:
            entity = _stored_entity(relationship.name, stored, target)
            if entity is None:
                errors.append((target, _local_error(
                    f"the snapshot holds no {relationship.name} entry {target}")))
                continue
            try:
                body = self._entity_body(relationship.name, entity, source)
            except _DependencyFailed as exc:
                blocked.append(exc.object_id)
                continue
            if body is None:
                errors.append((target, _local_error(
                    f"{relationship.name} entries are not written by a restore")))
                continue
            path = relationship.path.format(id=source)
            try:
                await self._lagging(partial(self.client.post, path, body),
                                    [source, *body_ids(body)])
            except _FATAL:
                raise
            except GraphClientError as exc:
                if not _already(exc):
                    errors.append((target, exc))
        return blocked

    def _entity_body(self, name: str, entity: Mapping[str, Any], source: str
                     ) -> dict[str, Any] | None:
        if name == "appRoleAssignedTo":
            principal = str(entity.get("principalId"))
            self._check_dependency(principal)
            return {"principalId": self._live(principal), "resourceId": source,
                    "appRoleId": entity.get("appRoleId")}
        if name == "scopedRoleMembers":
            info = entity.get("roleMemberInfo") if isinstance(entity.get("roleMemberInfo"),
                                                                dict) else {}
            member = str((info or {}).get("id"))
            role = str(entity.get("roleId"))
            self._check_dependency(member)
            self._check_dependency(role)
            return {"roleId": self._live(role), "roleMemberInfo": {"id": self._live(member)}}
        return None

    async def _remove_edges(self, item: PlanItem) -> _Outcome:
        object_type = by_name(item.type)
        relationship = self._relationship(object_type, item)
        if not relationship.restorable:
            return _Outcome(SKIPPED, relationship.not_restorable_reason or
                            f"{relationship.name} is not written by a restore")
        source = self._live(item.object_id, item.live_id)
        base = relationship.path.format(id=source)
        errors: list[tuple[str, GraphClientError]] = []
        for target in item.edges:
            if relationship.single_valued:
                path = f"{base}/$ref"
            elif relationship.write is WriteForm.ENTITY:
                path = f"{base}/{target}"
            else:
                path = f"{base}/{self._live(target)}/$ref"
            try:
                await self.client.delete(path)
            except NotFound:
                continue  # already gone
            except _FATAL:
                raise
            except GraphClientError as exc:
                errors.append((target, exc))
        return _edge_outcome(item, [], errors, [])

    @staticmethod
    def _relationship(object_type: ObjectType, item: PlanItem) -> Relationship:
        try:
            return object_type.relationship(item.relationship or "")
        except KeyError:
            raise UsageError(f"{item.type} has no relationship "
                             f"{item.relationship!r}") from None

    # --- ids, documents, requests -------------------------------------------------------

    def _map(self, old_id: str, new_id: str, old_app_id: str | None,
             new_app_id: str | None) -> None:
        self.ids[old_id] = new_id
        self.recreated[old_id] = new_id
        if old_app_id and new_app_id and old_app_id != new_app_id:
            self.app_ids[old_app_id] = new_app_id

    def _live(self, old_id: str, live_id: str | None = None) -> str:
        """The id an object of the snapshot has in the tenant now."""
        return self.ids.get(old_id) or live_id or old_id

    def _check_dependency(self, object_id: str) -> None:
        if object_id in self.failed:
            raise _DependencyFailed(object_id)

    def _remapped(self, body: dict[str, Any]) -> dict[str, Any]:
        """``body`` with every id of a re-created object (and appId) replaced; a
        reference to an object whose restore failed raises _DependencyFailed."""
        for object_id in body_ids(body):
            self._check_dependency(object_id)
        mapping = {**self.ids, **self.app_ids}
        if not mapping:
            return body
        remapped = remap_ids(body, {k.lower(): v for k, v in mapping.items()})
        assert isinstance(remapped, dict)
        return remapped

    def _document(self, item: PlanItem) -> dict[str, Any]:
        return self.repo.get(self.snapshot, item.type, item.object_id)

    async def _send(self, write: _Write) -> dict[str, Any]:
        if write.method == "POST":
            return await self.client.post(write.path, write.body)
        if write.method == "PATCH":
            return await self.client.patch(write.path, write.body)
        if write.method == "DELETE":
            await self.client.delete(write.path)
            return {}
        response = await self.client.transport.request(write.method, write.path,
                                                       json=write.body)
        return response.json_object()

    async def _lagging(self, send: Callable[[], Awaitable[T]], ids: Iterable[str]) -> T:
        """``send()``, retried while Graph answers as if a just-created object were not
        there yet (replication lag, graph-facts 5.4)."""
        involved = set(ids)
        delay = LAG_FIRST_DELAY
        for attempt in range(1, LAG_ATTEMPTS + 1):
            try:
                return await send()
            except (BadRequest, NotFound) as exc:
                lagging = (isinstance(exc, BadRequest) and bool(_LAG.search(_graph_message(exc)))
                           ) or (isinstance(exc, NotFound) and bool(involved & self.created))
                if attempt == LAG_ATTEMPTS or not lagging:
                    raise
            await self.client.budget.clock.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover


# --- helpers ---------------------------------------------------------------------------


def _application_body(body: dict[str, Any], later: dict[str, Any],
                      document: Mapping[str, Any], notes: list[str], flags: list[str]) -> None:
    if document.get("passwordCredentials"):
        count = len(document["passwordCredentials"])
        notes.append(f"needs new client secrets: it had {count}, which cannot be restored")
        flags.append(NEEDS_SECRETS)
    keys = [k for k in body.get("keyCredentials") or [] if isinstance(k, dict)]
    if keys:
        kept = [k for k in keys if k.get("key")]
        if len(kept) < len(keys):
            notes.append(f"{len(keys) - len(kept)} certificate(s) left out: their public key "
                         "was not backed up")
        body["keyCredentials"] = kept
    app_id = document.get("appId")
    uris = body.get("identifierUris")
    if isinstance(app_id, str) and isinstance(uris, list) and \
            any(isinstance(u, str) and app_id in u for u in uris):
        # api://{appId} must name the new appId, known only after the create.
        later["identifierUris"] = body.pop("identifierUris")


def license_change(stored: Any, live: Any) -> dict[str, Any] | None:
    """The ``assignLicense`` body that turns the live licences into the stored ones, or
    None when they already agree."""
    def by_sku(value: Any) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for entry in value or []:
            if isinstance(entry, dict) and entry.get("skuId"):
                found[str(entry["skuId"])] = sorted(str(p) for p in
                                                    entry.get("disabledPlans") or [])
        return found

    want, have = by_sku(stored), by_sku(live)
    add = [{"skuId": sku, "disabledPlans": plans} for sku, plans in sorted(want.items())
           if have.get(sku) != plans]
    remove = sorted(sku for sku in have if sku not in want)
    if not add and not remove:
        return None
    return {"addLicenses": add, "removeLicenses": remove}


def remap_ids(value: Any, mapping: Mapping[str, str]) -> Any:
    """``value`` with every string that is, or holds, an old id replaced by its new id
    (``mapping`` keys in lower case): id lists, ``principalId``, ``/administrativeUnits/{id}``
    scopes, ``api://{appId}`` ..."""
    if isinstance(value, str):
        hit = mapping.get(value.lower())
        if hit is not None:
            return hit
        if _GUID.search(value):
            return _GUID.sub(lambda m: mapping.get(m.group(0).lower(), m.group(0)), value)
        return value
    if isinstance(value, list):
        return [remap_ids(v, mapping) for v in value]
    if isinstance(value, dict):
        return {k: remap_ids(v, mapping) for k, v in value.items()}
    return value


def body_ids(value: Any) -> list[str]:
    """Every string in ``value`` and every id-shaped part of one (to check dependencies)."""
    found: list[str] = []
    if isinstance(value, str):
        found.append(value)
        found.extend(m.group(0).lower() for m in _GUID.finditer(value))
    elif isinstance(value, list):
        for v in value:
            found.extend(body_ids(v))
    elif isinstance(value, dict):
        for v in value.values():
            found.extend(body_ids(v))
    return found


def _stored_entity(name: str, stored: list[dict[str, Any]], target: str
                   ) -> dict[str, Any] | None:
    for entity in stored:
        if entity.get("id") == target:
            return entity
    for entity in stored:  # edges may name the principal or member instead
        info = entity.get("roleMemberInfo")
        other = entity.get("principalId") if name == "appRoleAssignedTo" else \
            info.get("id") if isinstance(info, dict) else None
        if other == target:
            return entity
    return None


def _edge_outcome(item: PlanItem, blocked: list[str],
                  errors: list[tuple[str, GraphClientError]], notes: list[str]) -> _Outcome:
    total = len(item.edges)
    if blocked:
        return _Outcome(FAILED, f"depends on {blocked[0]}, which failed"
                        + (f" ({len(blocked)} of {total} edges)" if total > 1 else ""),
                        error=errors[0][1] if errors else None, notes=notes)
    if errors:
        target, first = errors[0]
        return _Outcome(FAILED, f"{len(errors)} of {total} edges failed, first {target}: "
                        f"{_first_line(first)}", error=first, notes=notes)
    return _Outcome(DONE, notes=notes)


def _plain(body: Mapping[str, Any] | None) -> bool:
    """Whether a PATCH body sets anything besides the ``@odata.type`` it must repeat."""
    return any(key != "@odata.type" for key in body or {})


def _already(exc: GraphClientError) -> bool:
    """Graph's answer to a link or assignment that already exists."""
    return isinstance(exc, BadRequest) and bool(_ALREADY.search(_graph_message(exc)))


def _graph_message(exc: GraphClientError) -> str:
    if isinstance(exc, BadRequest) and exc.graph_message:
        return exc.graph_message
    return str(exc)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _error_json(exc: GraphClientError | None) -> dict[str, Any] | None:
    if exc is None:
        return None
    return {"status": exc.status, "code": exc.code, "message": _graph_message(exc)}


def _local_error(message: str) -> GraphClientError:
    return GraphClientError(message)


def _finished(entry: JournalEntry | None) -> bool:
    """Whether the journal says the item needs nothing more (done or skipped)."""
    return entry is not None and entry.event == FINISHED and entry.outcome in (DONE, SKIPPED)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
