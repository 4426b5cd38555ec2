"""``backup NAME``: one backup now, with live progress per type and a summary."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Any

import typer
from rich.console import Console
from rich.progress import Progress, TaskID, TextColumn, TimeElapsedColumn

from entra_backup.cli import render
from entra_backup.cli.context import print_json, workspace
from entra_backup.domain.object_types import select_types
from entra_backup.graph.client import GraphClient
from entra_backup.services.backup.engine import BackupProgress, BackupSummary, run_backup
from entra_backup.services.backup.interruption import interruption, newest_snapshot
from entra_backup.services.backup.scope import BackupScope
from entra_backup.services.backup.type_job import TypeOutcome
from entra_backup.services.leftovers import clean_stale_scratch


class _Bars:
    """Rich progress per type on stderr: objects read, rate (once there is one), elapsed."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(TextColumn("{task.fields[name]:<26}"),
                                 TextColumn("{task.fields[read]:>14}"),
                                 TextColumn("{task.fields[rate]:>12}"),
                                 TextColumn("{task.fields[state]}"), TimeElapsedColumn(),
                                 console=console, transient=False)
        self.tasks: dict[str, TaskID] = {}
        self.started: dict[str, float] = {}

    def callbacks(self) -> BackupProgress:
        return BackupProgress(self._start, self._read, self._finish, self._warn)

    def _warn(self, text: str) -> None:
        self.progress.console.print(f"entra-backup: warning: {text}", markup=False,
                                    highlight=False, soft_wrap=True)

    def _start(self, name: str) -> None:
        self.started[name] = time.monotonic()
        self.tasks[name] = self.progress.add_task(name, total=None, name=name, read="",
                                                  rate="", state="reading")

    def _read(self, name: str, count: int) -> None:
        task = self.tasks[name]
        self.progress.advance(task, count)
        done = self.progress.tasks[task].completed
        # Nothing is shown before the first page arrives: "0 read" says nothing true.
        self.progress.update(task, read=f"{done:,.0f} read" if done else "",
                             rate=render.rate(done, time.monotonic() - self.started[name]))

    def _finish(self, outcome: TypeOutcome) -> None:
        state = outcome.status if outcome.status != "ok" else (
            f"{outcome.mode}: {render.plural(outcome.objects, 'object')}, "
            f"{outcome.new_versions:,} new")
        self.progress.update(self.tasks[outcome.name], state=state)
        self.progress.stop_task(self.tasks[outcome.name])

    def abandon(self) -> None:
        """Leave no bars behind a run that failed or was interrupted: its one error line
        says what happened."""
        self.progress.live.transient = True


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
    bars = _Bars(Console(stderr=True))
    before = newest_snapshot(repo, name)
    with space.open_catalog() as catalog:
        async def go() -> BackupSummary:
            async with GraphClient.connect(connection) as client:
                return await run_backup(client, repo, name, scope, catalog=catalog, full=full,
                                        progress=bars.callbacks())
        try:
            summary = _run(go, bars, quiet=json_output)
        except (KeyboardInterrupt, asyncio.CancelledError):
            raise interruption(repo, name, before) from None
    if json_output:
        print_json(summary.to_json())
    else:
        _print_summary(Console(), summary.to_json())
    if summary.catalog.startswith("failed"):
        typer.echo(f"entra-backup: warning: snapshot {summary.snapshot_id[:8]} is stored, but "
                   f"the catalog was not updated ({summary.catalog}); run 'entra-backup "
                   "reindex'", err=True)
        raise typer.Exit(summary.catalog_exit_code or 1)
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


def _run(go: Callable[[], Coroutine[Any, Any, BackupSummary]], bars: _Bars, *,
         quiet: bool) -> BackupSummary:
    """Run the backup, drawing the bars unless ``--json`` keeps stderr for errors."""
    if quiet:
        return asyncio.run(go())
    with bars.progress:
        try:
            return asyncio.run(go())
        except BaseException:
            # Set before the bars stop, which would otherwise draw them a last time.
            bars.abandon()
            raise


def _print_summary(console: Console, summary: dict[str, Any]) -> None:
    # Per-type "read" stays on the progress lines above and in --json; the table keeps
    # to what fits an 80-column terminal.
    columns: list[render.Column | str] = [render.Column("type", ident=True), "mode"]
    columns += [
        render.Column(header, right=True) for header in (
            "objects", "added", "modified", "removed", "edges", "time")]
    table = render.table(columns, title=f"Snapshot {summary['snapshot'][:8]} of "
                         f"{summary['tenant']}" + (" (partial)" if summary["partial"] else ""))
    for item in summary["types"]:
        table.add_row(item["type"], item["mode"] if item["status"] == "ok"
                      else item["status"].upper(),
                      *(f"{item[key]:,}" for key in ("objects", "added", "modified", "removed")),
                      _maybe(item["relationships"]), render.elapsed(item["seconds"]))
    render.print_table(console, table)
    for line in _summary_lines(summary):
        console.print(line, highlight=False, markup=False, soft_wrap=True)


def _maybe(count: int | None) -> str:
    return "?" if count is None else f"{count:,}"


def _summary_lines(summary: dict[str, Any]) -> list[str]:
    """The totals under the table; "read" is what Graph returned, which a delta round
    keeps to the changes, so it differs from the objects the snapshot holds."""
    graph = summary["graph"]
    edges = summary["relationships"]
    held = render.plural(summary["objects"], "object") + (
        "" if edges is None else f" and {render.plural(edges, 'relationship')}")
    speed = render.rate(summary["objects"], summary["seconds"], "objects/s")
    return [
        f"Snapshot {summary['snapshot'][:8]} holds {held}: {summary['added']:,} added, "
        f"{summary['modified']:,} modified, {summary['removed']:,} removed "
        f"({render.plural(summary['new_versions'], 'new version')}).",
        f"Took {render.duration(summary['seconds'])}" + (f" ({speed})" if speed else "")
        + f"; Graph returned {render.plural(summary['read'], 'item')} "
        "(a delta read returns only what changed); "
        f"{summary['bytes_stored']:,} bytes stored.",
        f"{render.plural(int(graph.get('requests', 0)), 'Graph request')}, "
        f"{render.plural(int(graph.get('resource_units', 0)), 'resource unit')}, "
        f"{render.plural(int(graph.get('throttle_waits', 0)), 'throttle wait')}"
        + (f" ({render.duration(graph['throttle_wait_seconds'])})"
           if graph.get("throttle_waits") else "") + ".",
    ]
