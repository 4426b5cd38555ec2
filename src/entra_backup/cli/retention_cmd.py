"""``forget`` and ``prune``: retention of snapshots and reclaiming the space they held."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from entra_backup.cli.context import print_json, workspace
from entra_backup.domain.errors import UsageError
from entra_backup.services import retention as service
from entra_backup.services.retention import ForgetReport, PruneReport, RuleOptions

# Shared with ``tenant add`` and ``tenant edit``, which store a tenant's rules.
KEEP_LAST = typer.Option(None, "--keep-last", help="Keep the newest N snapshots.")
KEEP_HOURLY = typer.Option(None, "--keep-hourly", help="Keep the newest of each of N hours.")
KEEP_DAILY = typer.Option(None, "--keep-daily", help="Keep the newest of each of N days.")
KEEP_WEEKLY = typer.Option(None, "--keep-weekly", help="Keep the newest of each of N weeks.")
KEEP_MONTHLY = typer.Option(None, "--keep-monthly", help="Keep the newest of each of N months.")
KEEP_YEARLY = typer.Option(None, "--keep-yearly", help="Keep the newest of each of N years.")
KEEP_WITHIN = typer.Option(None, "--keep-within", help="Keep every snapshot this much younger "
                           "than the newest: 30d, 2w, 6m, 1y (h, d, w, m=30d, y=365d).")


def forget(
    name: str = typer.Argument(..., help="The tenant whose snapshots to thin out."),
    keep_last: int | None = KEEP_LAST,
    keep_hourly: int | None = KEEP_HOURLY,
    keep_daily: int | None = KEEP_DAILY,
    keep_weekly: int | None = KEEP_WEEKLY,
    keep_monthly: int | None = KEEP_MONTHLY,
    keep_yearly: int | None = KEEP_YEARLY,
    keep_within: str | None = KEEP_WITHIN,
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the decisions, delete nothing."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Delete the snapshots a retention policy does not keep (then run 'prune').

    Without --keep-* options the tenant's stored policy applies (tenant edit --keep-*).
    """
    rules = RuleOptions(keep_last, keep_hourly, keep_daily, keep_weekly, keep_monthly,
                        keep_yearly, keep_within)
    policy = rules.policy() if rules.given() else None  # bad rules fail before any I/O
    space = workspace()
    registered = space.tenants().get(name)
    repo = space.open_repository()
    if registered is None and not repo.snapshots(name):
        space.tenant(name)  # raises the one-line "no tenant named ..." error
    with space.open_catalog() as catalog:
        if policy is not None:
            report = service.forget_tenant(repo, catalog, name, policy, dry_run=dry_run)
        elif registered is not None:
            report = service.apply_retention(repo, catalog, registered, dry_run=dry_run)
        else:
            raise UsageError(f"tenant {name!r} is no longer registered: give --keep-* rules")
    _render_forget(report, json_output)
    _fail_on_catalog(report.catalog)
    retained = report.having("retained")
    if retained:
        raise service.object_lock_refusal([fate.id for fate in retained],
                                          retained[0].refused or "")


def _render_forget(report: ForgetReport, json_output: bool) -> None:
    if json_output:
        print_json(report.to_json())
        return
    verb = "to remove" if report.dry_run else "removed"
    table = Table("snapshot", "time", "decision")
    for fate in report.snapshots:
        decision = {"kept": "keep (" + ", ".join(fate.reasons) + ")",
                    "removed": verb, "retained": "retained by Object Lock"}[fate.state]
        table.add_row(fate.id[:12], fate.time.isoformat(timespec="seconds"), decision)
    Console().print(table)
    removed = len(report.having("removed"))
    typer.echo(f"Tenant {report.tenant!r}: {len(report.having('kept'))} kept, {removed} "
               f"{verb}" + (" (dry run)." if report.dry_run else ".")
               + (" Run 'entra-backup prune' to reclaim their space."
                  if removed and not report.dry_run else ""))


def _fail_on_catalog(catalog: str) -> None:
    if catalog.startswith("failed"):
        typer.echo(f"entra-backup: warning: the catalog was not updated ({catalog}); run "
                   "'entra-backup reindex'", err=True)
        raise typer.Exit(1)


def prune(
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the figures, change nothing."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Delete the data no snapshot references (after 'forget'); takes the exclusive lock."""
    report = service.prune_repository(workspace().open_repository(), dry_run=dry_run)
    if json_output:
        print_json(report.to_json())
    else:
        _render_prune(report)
    retained = report.result.retained
    if retained:
        raise service.object_lock_refusal(retained, f"first: {retained[0]}")


def _render_prune(report: PruneReport) -> None:
    figures = report.to_json()
    packs, sizes, blobs = figures["packs"], figures["bytes"], figures["blobs"]
    table = Table("packs", "count", "bytes")
    for label, key in (("delete", "delete"), ("repack", "repack"), ("keep", "keep")):
        table.add_row(label, str(packs[key]), f"{sizes[key]:,}")
    Console().print(table)
    typer.echo(f"Blobs: {blobs['used']:,} used, {blobs['unused']:,} unused "
               f"({blobs['unused_bytes']:,} bytes).")
    if report.dry_run:
        typer.echo("Dry run: nothing was changed.")
    else:
        typer.echo(f"Deleted {packs['deleted']} pack(s) ({sizes['deleted']:,} bytes) and "
                   f"{figures['index_files_deleted']} index file(s); wrote "
                   f"{packs['written']} pack(s) ({sizes['written']:,} bytes) holding "
                   f"{blobs['repacked']:,} repacked blob(s).")
