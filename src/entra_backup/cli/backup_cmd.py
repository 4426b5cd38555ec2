"""``backup NAME``: one backup now, with live progress per type and a summary."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import Any

import typer
from rich.console import Console
from rich.progress import Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from entra_backup.cli.context import print_json, workspace
from entra_backup.domain.object_types import select_types
from entra_backup.graph.client import GraphClient
from entra_backup.services.backup.engine import BackupProgress, BackupSummary, run_backup
from entra_backup.services.backup.scope import BackupScope
from entra_backup.services.backup.type_job import TypeOutcome
from entra_backup.services.leftovers import clean_stale_scratch


class _Bars:
    """Rich progress per type on stderr: objects read, rate, elapsed."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(TextColumn("{task.fields[name]:<26}"),
                                 TextColumn("{task.completed:>9,.0f} read"),
                                 TextColumn("{task.fields[rate]:>8} /s"),
                                 TextColumn("{task.fields[state]}"), TimeElapsedColumn(),
                                 console=console, transient=False)
        self.tasks: dict[str, TaskID] = {}
        self.started: dict[str, float] = {}

    def callbacks(self) -> BackupProgress:
        return BackupProgress(self._start, self._read, self._finish)

    def _start(self, name: str) -> None:
        self.started[name] = time.monotonic()
        self.tasks[name] = self.progress.add_task(name, total=None, name=name, rate="",
                                                  state="reading")

    def _read(self, name: str, count: int) -> None:
        task = self.tasks[name]
        self.progress.advance(task, count)
        done = self.progress.tasks[task].completed
        elapsed = max(time.monotonic() - self.started[name], 1e-6)
        self.progress.update(task, rate=f"{done / elapsed:,.0f}")

    def _finish(self, outcome: TypeOutcome) -> None:
        state = outcome.status if outcome.status != "ok" else (
            f"{outcome.mode}: {outcome.objects:,} objects, {outcome.new_versions:,} new")
        self.progress.update(self.tasks[outcome.name], state=state)
        self.progress.stop_task(self.tasks[outcome.name])


def backup(
    name: str = typer.Argument(..., help="The tenant's name."),
    types: str | None = typer.Option(None, help="Only these types (comma-separated)."),
    full: bool = typer.Option(False, "--full", help="Read every type fully, not by delta."),
    json_output: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Back the tenant up now: a new snapshot, incremental where Graph delta allows."""
    space = workspace()
    record = space.tenant(name)
    scope = BackupScope.from_json(record.scope)
    if types:
        chosen = select_types(part.strip() for part in types.split(",") if part.strip())
        scope = replace(scope, types=tuple(t.name for t in chosen))
    connection = space.connection(record)
    repo = space.open_repository()
    clean_stale_scratch()
    console = Console(stderr=True)
    bars = _Bars(console)
    with space.open_catalog() as catalog:
        async def go() -> BackupSummary:
            async with GraphClient.connect(connection) as client:
                return await run_backup(client, repo, name, scope, catalog=catalog, full=full,
                                        progress=bars.callbacks())
        if json_output:
            summary = asyncio.run(go())
        else:
            with bars.progress:
                summary = asyncio.run(go())
    if json_output:
        print_json(summary.to_json())
    else:
        _print_summary(Console(), summary.to_json())
    if summary.catalog.startswith("failed"):
        typer.echo(f"entra-backup: warning: snapshot {summary.snapshot_id[:8]} is stored, but "
                   f"the catalog was not updated ({summary.catalog}); run 'entra-backup "
                   "reindex'", err=True)
        raise typer.Exit(1)
    if summary.partial:
        reasons: dict[tuple[str, str], list[str]] = {}
        for outcome in summary.types:
            if outcome.status != "ok":
                reasons.setdefault((outcome.status, outcome.message or ""), []).append(
                    outcome.name)
        failed = [f"{', '.join(names)} {status} ({message})"
                  for (status, message), names in reasons.items()]
        typer.echo(f"entra-backup: warning: snapshot {summary.snapshot_id[:8]} is partial: "
                   + "; ".join(failed), err=True)
        raise typer.Exit(1)


def _print_summary(console: Console, summary: dict[str, Any]) -> None:
    graph = summary["graph"]
    table = Table(title=f"Snapshot {summary['snapshot'][:8]} of {summary['tenant']}"
                  + (" (partial)" if summary["partial"] else ""))
    for column in ("type", "status", "mode", "objects", "new versions", "removed"):
        table.add_column(column, justify="right" if column[0] in "onr" else "left")
    for item in summary["types"]:
        table.add_row(item["type"], item["status"], item["mode"], f"{item['objects']:,}",
                      f"{item['new_versions']:,}", f"{item['removed']:,}")
    console.print(table)
    console.print(
        f"{summary['objects']:,} objects, {summary['new_versions']:,} new versions, "
        f"{summary['bytes_stored']:,} bytes stored in {summary['seconds']:.1f} s; "
        f"{graph.get('requests', 0):,.0f} Graph requests, "
        f"{graph.get('resource_units', 0):,.0f} resource units, "
        f"{graph.get('throttle_waits', 0):,.0f} throttle waits "
        f"({graph.get('throttle_wait_seconds', 0):.1f} s)")
