"""``repair index|packs|snapshots`` and ``unlock``: bring a damaged repository back."""

from __future__ import annotations

from dataclasses import asdict

import typer

from entra_backup.cli.context import print_json, workspace
from entra_backup.services import repair as service

app = typer.Typer(help="Repair a damaged repository (see 'check').", no_args_is_help=True,
                  rich_markup_mode=None)

_DRY_RUN = typer.Option(False, "--dry-run", help="Report what would change; write nothing.")
_JSON = typer.Option(False, "--json", help="Print JSON.")


@app.command("index")
def index(dry_run: bool = _DRY_RUN, json_output: bool = _JSON) -> None:
    """Rebuild the index from the packs' own headers (after index files were lost)."""
    report = service.repair_index(workspace().open_repository(), dry_run=dry_run)
    if json_output:
        print_json(asdict(report))
        return
    for pack in report.damaged_packs:
        typer.echo(f"damaged pack {pack.pack_id}: {pack.reason} (not indexed)")
    verb = "Would index" if dry_run else "Indexed"
    typer.echo(f"Read {report.packs_read} pack(s). {verb} {report.blobs_indexed} blob(s), "
               f"{report.blobs_missing_from_index} of them missing from the old index; "
               f"{len(report.damaged_packs)} damaged pack(s).")
    if not dry_run:
        typer.echo(f"Wrote {len(report.index_files_written)} index file(s), removed "
                   f"{len(report.index_files_removed)} superseded one(s).")


@app.command("packs")
def packs(dry_run: bool = _DRY_RUN, json_output: bool = _JSON) -> None:
    """Drop the blobs 'check --read-data' marked damaged from the index, so that the next
    backup stores them again from Graph."""
    report = service.repair_packs(workspace().open_repository(), dry_run=dry_run)
    if json_output:
        print_json(asdict(report))
        return
    verb = "Would drop" if dry_run else "Dropped"
    typer.echo(f"{verb} {report.blobs_dropped} damaged blob(s) from the index; "
               f"{report.blobs_indexed} blob(s) stay indexed.")
    if report.blobs_dropped:
        typer.echo("Next: a backup stores them again (objects that still exist); "
                   "'entra-backup repair snapshots' records the others as lost.")


@app.command("snapshots")
def snapshots(dry_run: bool = _DRY_RUN, json_output: bool = _JSON) -> None:
    """Rewrite snapshots that reference lost data (after 'repair packs'): the new snapshot
    leaves the lost objects out and records their ids; the old snapshot file is removed."""
    report = service.repair_snapshots(workspace().open_repository(), dry_run=dry_run)
    if json_output:
        print_json(asdict(report))
        return
    for old, new in report.rewritten.items():
        lost = ", ".join(f"{t}: {len(ids)}" for t, ids in report.lost[old].items())
        target = "would be rewritten" if new is None else f"rewritten as {new[:8]}"
        typer.echo(f"snapshot {old[:8]} {target}; lost objects: {lost}")
    typer.echo(f"Checked {report.snapshots_checked} snapshot(s); "
               f"{len(report.rewritten)} reference lost data.")
    if report.rewritten and not dry_run:
        typer.echo("Run 'entra-backup reindex' to bring the catalog up to date.")


def unlock(
    force: bool = typer.Option(False, "--force", help="Also remove the lock of a holder that "
                               "may be alive. Risk: " + service.UNLOCK_RISK + "."),
    json_output: bool = _JSON,
) -> None:
    """Remove a stale repository lock (its holder died on this host, or its lease expired).

    A lock whose holder may still be running is refused unless --force.
    """
    report = service.unlock(workspace().backend(), force=force)
    if json_output:
        print_json(asdict(report))
        return
    for item in report.removed:
        typer.echo(f"removed {item['reason']} lock {item['lock']}: {item['holder']}")
    typer.echo(f"Removed {len(report.removed)} lock file(s).")
