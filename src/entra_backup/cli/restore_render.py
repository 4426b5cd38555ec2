"""How ``restore`` and ``restore-report`` show plans, summaries, reports and runs as text.

Rich picks the terminal's width (80 columns when the output is not a terminal); the
summary is a narrow table (type, action, items, writes), and lines that carry ids are
printed whole and left to the terminal to wrap, so an id is never cut.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from entra_backup.cli.render import duration
from entra_backup.domain.restore.plan import Action
from entra_backup.services.restore.report import RestoreReport
from entra_backup.services.restore.runs import RunInfo
from entra_backup.services.restore.summary import PlanSummary
from entra_backup.services.restore.verification import Verification

PASSWORD_OPTION = "--default-password-env"


def render_summary(console: Console, summary: PlanSummary) -> None:
    """Items and writes per type and action; then totals, the estimate, the removals."""
    console.print(f"Plan to restore {summary.tenant} to snapshot {summary.snapshot[:8]}:",
                  highlight=False, markup=False)
    if not summary.rows:
        console.print("Nothing to restore: the tenant matches the snapshot in this scope.",
                      highlight=False)
        return
    table = Table()
    for column in ("type", "action", "items", "writes"):
        table.add_column(column, justify="right" if column in ("items", "writes") else "left",
                         no_wrap=True)
    for row in summary.rows:
        table.add_row(row.type, row.action, f"{row.items:,}", f"{row.writes:,}")
    console.print(table)
    console.print(f"{summary.directory_writes:,} directory writes and "
                  f"{summary.conditional_access_writes:,} Conditional Access writes; "
                  f"estimated duration {_at_least(summary.estimated_seconds)}.",
                  highlight=False)
    if summary.removed_objects or summary.removed_edges:
        console.print(f"Removes {summary.removed_objects:,} objects and "
                      f"{summary.removed_edges:,} relationships created after the snapshot.",
                      highlight=False)


def _at_least(seconds: float) -> str:
    """A lower bound, but never "at least 0 s": under a second it says so."""
    shown = duration(seconds)
    return shown if seconds < 1 else f"at least {shown}"


def password_hint(summary: PlanSummary) -> str:
    """What the dry run says when the real run will need a default password."""
    return (f"The plan re-creates {summary.recreated_users:,} users: the real run needs "
            f"{PASSWORD_OPTION} VARIABLE (their default password; they must change it at "
            "their next sign-in).")


def render_steps(console: Console, plan: dict[str, Any]) -> None:
    """Every step that writes, one line each (with its edges on the next)."""
    steps = [item for item in plan["items"] if item["action"] != Action.SKIP.value]
    if not steps:
        if plan["items"]:  # with no item at all, the summary already said so
            console.print("Nothing to write: the tenant matches the snapshot (apart from "
                          "the skipped objects).")
        return
    for item in steps:
        label = item["display_name"] or item["object_id"]
        where = f" {item['relationship']}" if item["relationship"] else ""
        console.print(f"{item['action']:<21} {item['type']}{where} {item['object_id']} "
                      f"({label}): {item['reason']}", highlight=False, markup=False,
                      soft_wrap=True)
        if item["edges"]:
            console.print(f"    {', '.join(item['edges'])}", highlight=False, markup=False,
                          soft_wrap=True)


def print_outcome(console: Console, report: RestoreReport, run_id: str) -> None:
    """The end of a restore: counts, failures, what to do next, the report's command."""
    counts = report.counts
    lines = [f"Restore {run_id}: {counts['done']} done, {counts['skipped']} skipped, "
             f"{counts['failed']} failed."]
    for item in report.failed:
        lines.append(f"  FAILED {item.action} {item.type} {item.object_id}: "
                     f"{item.error_message or item.reason}")
    for item in report.needs_enabling:
        lines.append(f"  Conditional Access policy {item.display_name} was created "
                     "report-only: enable it after review.")
    for item in report.needs_new_secrets:
        lines.append(f"  Application {item.display_name} needs new client secrets "
                     f"(new id {item.new_id}).")
    if report.id_map:
        lines.append(f"  {len(report.id_map):,} objects were re-created with new ids; the "
                     "report gives each old id -> new id.")
    if report.verification is not None:
        lines += verification_lines(report.verification)
    lines.append(f"Report: {report_command(report.tenant, run_id)}")
    for line in lines:
        console.print(line, highlight=False, markup=False, soft_wrap=True)


def verification_lines(verification: Verification) -> list[str]:
    """The headline, every difference left (unexplained first), and what was not compared."""
    lines = [verification.headline() + "."]
    ordered = sorted(verification.differences, key=lambda d: d.accepted)
    for difference in ordered:
        label = "accepted" if difference.accepted else "DIFFERS"
        lines.append(f"  {label:<8} {difference.line()}")
    if verification.not_compared:
        # The full list is long (read-only properties of every type): --json has it.
        count = sum(len(props) for props in verification.not_compared.values())
        lines.append(f"  Not compared: {count} properties of "
                     f"{len(verification.not_compared)} types that a restore may not "
                     "write (listed under not_compared in --json).")
    return lines


def render_verification(console: Console, verification: Verification) -> None:
    """``restore --verify-only``: the verification's lines."""
    for line in verification_lines(verification):
        console.print(line, highlight=False, markup=False, soft_wrap=True)


def report_command(tenant: str, run_id: str) -> str:
    """The exact command that shows a run's report."""
    return f"entra-backup restore-report {tenant} {run_id}"


def render_report(console: Console, run_id: str, report: dict[str, Any]) -> None:
    """A saved report: counts, then every item with its outcome (and new id)."""
    console.print(f"Restore {run_id} of {report['tenant']} to snapshot "
                  f"{report['snapshot'][:8]}: "
                  + ", ".join(f"{count} {name}" for name, count in report["counts"].items()),
                  highlight=False, markup=False, soft_wrap=True)
    for item in report["items"]:
        new = f" -> {item['new_id']}" if item.get("new_id") else ""
        console.print(f"  {item['outcome']:<8} {item['action']:<21} {item['type']} "
                      f"{item['display_name'] or item['object_id']}{_old_id(item)}{new}: "
                      f"{item['error_message'] or item['reason']}",
                      highlight=False, markup=False, soft_wrap=True)
    if report.get("verification"):
        render_verification(console, Verification.from_json(report["verification"]))


def render_runs(console: Console, tenant: str, runs: list[RunInfo]) -> None:
    """``restore-report NAME --list``: one line per run, oldest first. Lines, not a table:
    a run's id is the argument of ``restore-report`` and must never be cut or wrapped."""
    if not runs:
        console.print(f"No restore run of {tenant} yet.", highlight=False, markup=False)
        return
    width = max(len(run.id) for run in runs)
    console.print(f"{'run':<{width}}  {'started (UTC)':<19}  snapshot  {'status':<10}  steps",
                  highlight=False, markup=False, soft_wrap=True)
    for run in runs:
        started = run.started_at[:19].replace("T", " ")
        counts = run.counts
        console.print(f"{run.id:<{width}}  {started:<19}  {run.snapshot[:8]:<8}  "
                      f"{run.status:<10}  {counts.get('done', 0):,} done, "
                      f"{counts.get('skipped', 0):,} skipped, {counts.get('failed', 0):,} "
                      f"failed of {counts.get('total', 0):,}",
                      highlight=False, markup=False, soft_wrap=True)


def _old_id(item: dict[str, Any]) -> str:
    """A re-created object's old id, shown before its new one (the name alone is shown
    when the item has no new id)."""
    return f" ({item['object_id']})" if item.get("new_id") and item["display_name"] else ""
