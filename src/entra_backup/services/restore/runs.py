"""Where restore runs keep their plan, journal and report, so a killed run can continue.

Each run has a folder ``<home>/restores/<run id>/`` with ``plan.json`` (the plan it
executes), ``journal.jsonl`` (what it has done, see ``journal.py``) and, once it ends,
``report.json`` and ``report.csv``. Running the same restore again finds the unfinished run
of that tenant, snapshot and options and continues it with the same plan, so nothing is
re-created twice.

The journals of earlier runs also say which objects they re-created and with which new
id (:func:`earlier_id_map`); the planner matches a stored object through that map, so a
second restore of the same snapshot updates what the first re-created instead of
creating it again. Only journal lines that authenticate under this repository's key are
used (``journal.py``); the others are named in warnings and ignored. The run's
``plan.json`` carries the plan's MAC (``domain/restore/authentic.py``) and is checked
before a run is continued with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from entra_backup.config import write_atomically
from entra_backup.domain.errors import UsageError
from entra_backup.domain.restore.authentic import PlanNotAuthentic, check_plan, seal_plan
from entra_backup.domain.restore.plan import RestorePlan
from entra_backup.services.restore.ids import EarlierRestores
from entra_backup.services.restore.journal import (
    FINISHED,
    JournalSeal,
    peek_journal,
    read_journal,
    rejection_warnings,
)
from entra_backup.services.restore.report import (
    DONE,
    FAILED,
    NEEDS_ENABLING,
    SKIPPED,
    RestoreReport,
)
from entra_backup.store.crypto import RepositoryKeys

LATEST = "latest"
_STAMP = "%Y%m%dT%H%M%S%fZ"


@dataclass(frozen=True)
class RestoreRun:
    """One restore's folder."""

    directory: Path

    @property
    def id(self) -> str:
        """The run's id (its folder name)."""
        return self.directory.name

    @property
    def journal(self) -> Path:
        """The run's journal file."""
        return self.directory / "journal.jsonl"

    def plan(self) -> RestorePlan:
        """The plan the run executes, as its file says (MAC unchecked: to find runs)."""
        return RestorePlan.from_json(self._plan_json())

    def checked_plan(self, keys: RepositoryKeys) -> RestorePlan:
        """The plan the run executes; PlanNotAuthentic unless its MAC is right."""
        value = self._plan_json()
        try:
            check_plan(value, keys.plan_mac, f"the plan of restore run {self.id}")
        except PlanNotAuthentic as exc:
            raise PlanNotAuthentic(
                f"the plan of the unfinished restore run {self.id} does not authenticate "
                "(changed, or written by a version without plan MACs), so the run is not "
                f"continued; remove its folder restores/{self.id} to start afresh") from exc
        return RestorePlan.from_json(value)

    def seal(self, keys: RepositoryKeys) -> JournalSeal:
        """What authenticates the lines of this run's journal."""
        plan = self._plan_json()
        return JournalSeal.for_journal(keys, str(plan["tenant"]), str(plan["snapshot"]),
                                       self.journal)

    def journal_warnings(self, keys: RepositoryKeys) -> list[str]:
        """A warning per line of the journal that does not authenticate."""
        if not self.journal.is_file():
            return []
        return rejection_warnings(self.id, read_journal(self.journal, self.seal(keys))[1])

    @property
    def finished(self) -> bool:
        """Whether the run ended with every item done or skipped."""
        report = self.directory / "report.json"
        return report.exists() and bool(orjson.loads(report.read_bytes()).get("ok"))

    def finished_steps(self, keys: RepositoryKeys) -> int:
        """Steps an earlier attempt of this run finished (done or skipped)."""
        return len(self.finished_keys(keys))

    def finished_keys(self, keys: RepositoryKeys) -> set[str]:
        """The keys of the steps an earlier attempt finished (done or skipped), by the
        journal's authenticated lines."""
        if not self.journal.is_file():
            return set()
        entries, _ = read_journal(self.journal, self.seal(keys))
        return {key for key, entry in entries.items()
                if entry.event == FINISHED and entry.outcome in (DONE, SKIPPED)}

    def tenant(self) -> str:
        """The tenant the run restores (from its plan)."""
        return str(self._plan_json()["tenant"])

    def info(self) -> RunInfo:
        """The run in one line: when, what, how it ended."""
        plan = self._plan_json()
        report_file = self.directory / "report.json"
        if report_file.is_file():
            report = orjson.loads(report_file.read_bytes())
            status = "ok" if report.get("ok") else "failed"
            return RunInfo(self.id, str(plan["tenant"]), str(plan["snapshot"]),
                           self._started(), report.get("finished_at"), status,
                           dict(report["counts"]))
        counts = {DONE: 0, SKIPPED: 0, FAILED: 0, "total": len(plan.get("items", ()))}
        if self.journal.is_file():
            for entry in peek_journal(self.journal).values():
                if entry.event == FINISHED and entry.outcome in counts:
                    counts[entry.outcome] += 1
        return RunInfo(self.id, str(plan["tenant"]), str(plan["snapshot"]), self._started(),
                       None, "unfinished", counts)

    def _plan_json(self) -> dict[str, Any]:
        value = orjson.loads((self.directory / "plan.json").read_bytes())
        if not isinstance(value, dict):
            raise UsageError(f"the restore run {self.id} has a damaged plan.json")
        return value

    def _started(self) -> str:
        """The start time the run's id begins with (its folder is named when it starts)."""
        try:
            stamp = datetime.strptime(self.id.split("-", 1)[0], _STAMP)
        except ValueError:
            return ""
        return stamp.replace(tzinfo=UTC).isoformat(timespec="seconds")

    def save_report(self, report: RestoreReport) -> None:
        """Write the report (JSON and CSV) next to the journal."""
        write_atomically(self.directory / "report.json",
                         orjson.dumps(report.to_json(), option=orjson.OPT_INDENT_2).decode())
        write_atomically(self.directory / "report.csv", report.to_csv())


@dataclass(frozen=True)
class RunInfo:
    """One line of ``restore-report NAME --list``."""

    id: str
    tenant: str
    snapshot: str
    started_at: str
    finished_at: str | None
    status: str
    """``ok`` (every step done or skipped), ``failed`` (a step failed) or ``unfinished``
    (stopped before its end: running the same restore again continues it)."""
    counts: dict[str, int]
    """Steps per outcome and in all; for an unfinished run, what its journal finished."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def runs_root(home: Path) -> Path:
    """The folder of every restore run of this installation."""
    return home / "restores"


def unfinished_run(home: Path, plan_options: dict[str, Any], tenant: str,
                   snapshot: str) -> RestoreRun | None:
    """The newest unfinished run of the same tenant, snapshot and options, if any."""
    root = runs_root(home)
    if not root.is_dir():
        return None
    for directory in sorted(root.iterdir(), reverse=True):
        run = RestoreRun(directory)
        if not (directory / "plan.json").is_file() or run.finished:
            continue
        plan = run.plan()
        if (plan.tenant, plan.snapshot, plan.options) == (tenant, snapshot, plan_options):
            return run
    return None


def start_run(home: Path, plan: RestorePlan, keys: RepositoryKeys) -> RestoreRun:
    """A new run folder holding the plan (with its MAC)."""
    stamp = datetime.now(UTC).strftime(_STAMP)
    directory = runs_root(home) / f"{stamp}-{plan.tenant}-{plan.snapshot[:8]}"
    directory.mkdir(parents=True, exist_ok=False)
    sealed = seal_plan(plan.to_json(), keys.plan_mac)
    write_atomically(directory / "plan.json",
                     orjson.dumps(sealed, option=orjson.OPT_INDENT_2).decode())
    return RestoreRun(directory)


def find_run(home: Path, run_id: str, tenant: str | None = None) -> RestoreRun:
    """A run by id, unique id prefix or ``latest`` (of ``tenant`` when given);
    UsageError otherwise."""
    runs = [run for run in all_runs(home) if tenant is None or run.tenant() == tenant]
    whose = f" of tenant {tenant!r}" if tenant is not None else ""
    if run_id == LATEST:
        if not runs:
            raise UsageError(f"no restore run{whose} yet")
        return runs[-1]
    matches = [run for run in runs if run_id and run.id.startswith(run_id)]
    if not matches:
        raise UsageError(f"no restore run {run_id!r}{whose} (see 'entra-backup "
                         "restore-report NAME --list')")
    if len(matches) > 1:
        raise UsageError(f"{run_id!r} matches {len(matches)} restore runs; give more of it")
    return matches[0]


def is_run_reference(home: Path, reference: str) -> bool:
    """Whether ``reference`` is the id or an id prefix of at least one run (of any
    tenant): how the old ``restore-report RUN`` form is told from ``restore-report NAME``."""
    return bool(reference) and any(run.id.startswith(reference) for run in all_runs(home))


def all_runs(home: Path) -> list[RestoreRun]:
    """Every run that saved its plan, oldest first (ids start with their start time)."""
    root = runs_root(home)
    if not root.is_dir():
        return []
    return [RestoreRun(path) for path in sorted(root.iterdir())
            if (path / "plan.json").is_file()]


def list_runs(home: Path, tenant: str) -> list[RunInfo]:
    """The restore runs of ``tenant``, oldest first."""
    return [run.info() for run in all_runs(home) if run.tenant() == tenant]


def earlier_id_map(home: Path, tenant: str, keys: RepositoryKeys,
                   warnings: list[str] | None = None) -> EarlierRestores:
    """What every earlier restore run of ``tenant`` re-created: old id -> new id, old
    appId -> new appId, and the policies created report-only (from their journals, so a
    run that was killed counts too); a later run's word wins.

    Only journal lines that authenticate under ``keys`` count; a warning naming the run
    and line of each other one is appended to ``warnings``."""
    root = runs_root(home)
    journals: list[SealedJournal] = []
    if root.is_dir():
        for directory in sorted(root.iterdir()):
            run = RestoreRun(directory)
            if run.journal.is_file() and (directory / "plan.json").is_file() \
                    and run.tenant() == tenant:
                journals.append(SealedJournal(run.id, run.journal, run.seal(keys)))
    return journals_restores(journals, warnings)


@dataclass(frozen=True)
class SealedJournal:
    """A journal with what authenticates its lines, and the run it names in warnings."""

    run: str
    path: Path
    seal: JournalSeal


def journals_restores(journals: Iterable[SealedJournal],
                      warnings: list[str] | None = None) -> EarlierRestores:
    """:func:`earlier_id_map` of the given journals, oldest first."""
    ids: dict[str, str] = {}
    app_ids: dict[str, str] = {}
    report_only: set[str] = set()
    for journal in journals:
        entries, rejected = read_journal(journal.path, journal.seal)
        if warnings is not None:
            warnings.extend(rejection_warnings(journal.run, rejected))
        for key, entry in entries.items():
            parts = key.split(":")
            if parts[0] != "recreate" or len(parts) < 3 or entry.event != FINISHED \
                    or not entry.new_id:
                continue
            ids[parts[2]] = entry.new_id
            if entry.old_app_id and entry.new_app_id:
                app_ids[entry.old_app_id] = entry.new_app_id
            if NEEDS_ENABLING in entry.flags:
                report_only.add(parts[2])
            else:
                report_only.discard(parts[2])
    return EarlierRestores(ids, app_ids, frozenset(report_only))
