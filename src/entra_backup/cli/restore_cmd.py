"""``restore NAME --snapshot S`` and ``restore-report RUN``: plan, then execute.

``--dry-run`` prints the plan (counts per type and action, the Graph writes and the
estimated duration, then every step that writes), or with ``--json`` the plan as one JSON
document, which is how a plan is saved for review
(``restore NAME --snapshot S --dry-run --json > plan.json``); ``--dry-run --plan FILE``
shows a saved plan and says whether the tenant changed since it was made.

Without ``--dry-run`` the plan (computed now, or the saved one, refused if the tenant
changed since) is executed: the write permissions it needs are checked first and named
if missing, before any write; progress goes to a journal, so running the same command
again after a kill continues the unfinished run; the report is saved with the run
(``restore-report RUN [--json|--csv]``) and the command exits non-zero if an item failed.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any, cast

import orjson
import typer
from rich.console import Console
from rich.table import Table

from entra_backup.bootstrap import Workspace
from entra_backup.cli.context import print_json, workspace
from entra_backup.cli.restore_progress import RestoreBar
from entra_backup.domain.errors import UsageError
from entra_backup.domain.object_types import by_name
from entra_backup.domain.restore.plan import Action, CaState, RestorePlan, changed_types
from entra_backup.graph.client import GraphClient, TenantConnection
from entra_backup.graph.errors import PermissionDenied
from entra_backup.services import browse
from entra_backup.services.restore.execute import execute_plan
from entra_backup.services.restore.plan import (
    RestoreOptions,
    SettingsMode,
    make_plan,
    read_live,
)
from entra_backup.services.restore.report import RestoreReport
from entra_backup.services.restore.runs import (
    earlier_id_map,
    find_run,
    start_run,
    unfinished_run,
)
from entra_backup.services.tenants import missing_for_restore, token_roles
from entra_backup.store.repository import Repository
from entra_backup.store.snapshot import Snapshot


def restore(
    name: str = typer.Argument(..., help="The tenant's name."),
    snapshot: str = typer.Option(..., "--snapshot", help="Snapshot id, prefix or 'latest'."),
    types: list[str] = typer.Option([], "--type", help="Only these types (repeatable)."),
    objects: list[str] = typer.Option([], "--object", help="Only these ids (repeatable)."),
    no_relationships: bool = typer.Option(False, "--no-relationships",
                                          help="Leave members, owners and assignments "
                                               "as they are."),
    deleted_only: bool = typer.Option(False, "--deleted-only",
                                      help="Only bring back deleted objects."),
    settings: str = typer.Option("overwrite", "--settings",
                                 help="Tenant settings: overwrite or skip."),
    remove_new: bool = typer.Option(False, "--remove-new",
                                    help="Also remove objects and edges created after the "
                                         "snapshot."),
    ca_state: str = typer.Option("report-only", "--ca-state",
                                 help="Re-created Conditional Access policies: report-only "
                                      "or as-backed-up."),
    default_password_env: str | None = typer.Option(
        None, "--default-password-env",
        help="Variable holding the password of re-created users (required when the plan "
             "re-creates users; they must change it at their next sign-in)."),
    dry_run: bool = typer.Option(False, "--dry-run",
                                 help="Print the plan; write nothing to the tenant."),
    plan_file: Path | None = typer.Option(None, "--plan",
                                          help="A plan saved by --dry-run --json."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Restore the tenant to a snapshot: a plan first (--dry-run), then its execution."""
    if settings not in ("overwrite", "skip"):
        raise UsageError(f"--settings must be overwrite or skip, not {settings!r}")
    if ca_state not in ("report-only", "as-backed-up"):
        raise UsageError(f"--ca-state must be report-only or as-backed-up, not {ca_state!r}")
    for type_name in types:
        by_name(type_name)
    options = RestoreOptions(types=tuple(types), object_ids=tuple(objects),
                             relationships=not no_relationships, deleted_only=deleted_only,
                             settings=cast(SettingsMode, settings), remove_new=remove_new,
                             ca_state=cast(CaState, ca_state))
    space = workspace()
    record = space.tenant(name)
    repo = space.open_repository()
    chosen = browse.resolve_snapshot(repo, name, snapshot)
    connection = space.connection(record)
    if plan_file is not None:
        if options != RestoreOptions():
            raise UsageError("a saved plan holds its own options; give --plan without "
                             "--type, --object or other restore options")
        plan = _read_plan(plan_file)
        if plan.tenant != name or plan.snapshot != chosen.id:
            raise UsageError(f"{plan_file} is a plan of tenant {plan.tenant!r}, snapshot "
                             f"{plan.snapshot[:8]}, not of {name!r}, snapshot "
                             f"{chosen.short_id}")

        async def current() -> dict[str, str]:
            async with GraphClient.connect(connection) as client:
                live = await read_live(client, chosen,
                                       [by_name(t) for t in sorted(plan.live_state)])
            return live.state

        changed = changed_types(plan, asyncio.run(current()))
    else:
        async def compute() -> RestorePlan:
            async with GraphClient.connect(connection) as client:
                return await make_plan(client, repo, chosen, options,
                                       known_ids=earlier_id_map(space.home, name))

        resumed = None if dry_run else _resumed_plan(space.home, options, name, chosen.id)
        plan = resumed if resumed is not None else asyncio.run(compute())
        changed = []
    if not dry_run:
        if changed:
            raise UsageError(f"the tenant changed since the plan was made ({', '.join(changed)}"
                             "); make the plan again (restore --dry-run) and review it")
        _execute(space, connection, repo, chosen, plan, ca_state,
                 _password(default_password_env), json_output)
        return
    if json_output:
        print_json(plan.to_json())
    else:
        render_plan(Console(), plan.to_json())
    if changed:
        typer.echo(f"entra-backup: warning: the tenant changed since the plan was made "
                   f"({', '.join(changed)}); make it again before executing it", err=True)
        raise typer.Exit(1)


def _resumed_plan(home: Path, options: RestoreOptions, tenant: str,
                  snapshot: str) -> RestorePlan | None:
    run = unfinished_run(home, options.to_json(), tenant, snapshot)
    if run is None:
        return None
    typer.echo(f"Continuing the unfinished restore {run.id} with its plan.", err=True)
    return run.plan()


def _password(variable: str | None) -> str | None:
    if variable is None:
        return None
    value = os.environ.get(variable, "")
    if not value:
        raise UsageError(f"--default-password-env names {variable}, which is empty or not "
                         "set; re-created users need a default password")
    return value


def _execute(space: Workspace, connection: TenantConnection, repo: Repository,
             snapshot: Snapshot, plan: RestorePlan, ca_state: str, password: str | None,
             json_output: bool) -> None:
    writing = sorted({item.type for item in plan.items if item.action is not Action.SKIP})
    run = unfinished_run(space.home, plan.options, plan.tenant, plan.snapshot)
    if run is None or run.plan().created_at != plan.created_at:
        run = None

    async def go() -> RestoreReport:
        async with GraphClient.connect(connection) as client:
            missing = missing_for_restore(await token_roles(client), writing)
            if missing:
                needed = sorted({p for permissions in missing.values() for p in permissions})
                raise PermissionDenied(
                    f"the restore app lacks {', '.join(needed)} (needed for "
                    f"{', '.join(sorted(missing))}); nothing was written",
                    permission=needed[0])
            chosen = run or start_run(space.home, plan)
            if json_output:
                report = await execute_plan(client, repo, snapshot, plan, chosen.journal,
                                            default_password=password,
                                            ca_state=cast(CaState, ca_state))
            else:
                with RestoreBar(Console(stderr=True), len(plan.items),
                                chosen.finished_steps()) as bar:
                    report = await execute_plan(client, repo, snapshot, plan,
                                                chosen.journal, default_password=password,
                                                ca_state=cast(CaState, ca_state),
                                                progress=bar)
            chosen.save_report(report)
            report_ids.append(chosen.id)
            return report

    report_ids: list[str] = []
    report = asyncio.run(go())
    _print_report(report, report_ids[0], json_output)
    if not report.ok:
        typer.echo(f"entra-backup: error: {len(report.failed)} of {len(report.items)} restore "
                   f"steps failed; see 'entra-backup restore-report {report_ids[0]}'",
                   err=True)
        raise typer.Exit(1)


def _print_report(report: RestoreReport, run_id: str, json_output: bool) -> None:
    if json_output:
        print_json({"run": run_id, **report.to_json()})
        return
    counts = report.counts
    typer.echo(f"Restore {run_id}: {counts['done']} done, {counts['skipped']} skipped, "
               f"{counts['failed']} failed.")
    for item in report.failed:
        typer.echo(f"  FAILED {item.action} {item.type} {item.object_id}: "
                   f"{item.error_message or item.reason}")
    for item in report.needs_enabling:
        typer.echo(f"  Conditional Access policy {item.display_name} was created "
                   "report-only: enable it after review.")
    for item in report.needs_new_secrets:
        typer.echo(f"  Application {item.display_name} needs new client secrets "
                   f"(new id {item.new_id}).")


def restore_report(
    run_id: str = typer.Argument(..., help="The restore run's id (or a unique prefix)."),
    json_output: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    csv_output: bool = typer.Option(False, "--csv", help="Print the report as CSV."),
) -> None:
    """The saved report of a restore run: every step done, skipped or failed, and why."""
    run = find_run(workspace().private_home(), run_id)
    report = run.directory / ("report.csv" if csv_output else "report.json")
    if not report.exists():
        raise UsageError(f"restore {run.id} has no report yet (it did not finish); run the "
                         "same restore command again to continue it")
    text = report.read_text(encoding="utf-8")
    if csv_output or json_output:
        typer.echo(text, nl=False)
        return
    value = orjson.loads(text)
    typer.echo(f"Restore {run.id} of {value['tenant']} to snapshot {value['snapshot'][:8]}: "
               + ", ".join(f"{count} {name}" for name, count in value["counts"].items()))
    for item in value["items"]:
        typer.echo(f"  {item['outcome']:<8} {item['action']:<21} {item['type']} "
                   f"{item['display_name'] or item['object_id']}: "
                   f"{item['error_message'] or item['reason']}")


def _read_plan(path: Path) -> RestorePlan:
    try:
        value = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise UsageError(f"cannot read the plan {path}: {exc.strerror or exc}") from exc
    except orjson.JSONDecodeError as exc:
        raise UsageError(f"{path} is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise UsageError(f"{path} is not a restore plan")
    return RestorePlan.from_json(value)


def render_plan(console: Console, plan: dict[str, Any]) -> None:
    """The plan for a reader: counts per type and action, writes and time, then steps."""
    table = Table(title=f"Restore plan of {plan['tenant']} to snapshot {plan['snapshot'][:8]}")
    for column in ("type", "action", "items", "writes"):
        table.add_column(column, justify="right" if column in ("items", "writes") else "left",
                         no_wrap=True)
    order = {action.value: index for index, action in enumerate(Action)}
    rows: dict[tuple[str, str], list[int]] = {}
    for item in plan["items"]:
        row = rows.setdefault((item["type"], item["action"]), [0, 0])
        row[0] += 1
        row[1] += item["writes"]
    for (type_name, action), (count, writes) in sorted(
            rows.items(), key=lambda entry: (entry[0][0], order[entry[0][1]])):
        table.add_row(type_name, action, f"{count:,}", f"{writes:,}")
    console.print(table)
    writes = plan["writes"]
    console.print(f"{writes['directory']:,} directory writes and "
                  f"{writes['conditional_access']:,} Conditional Access writes; "
                  f"estimated duration at least {_duration(plan['estimated_seconds'])}.")
    steps = [item for item in plan["items"] if item["action"] != Action.SKIP.value]
    if not steps:
        console.print("Nothing to write: the tenant matches the snapshot"
                      + (" (apart from the skipped objects)." if plan["items"] else "."))
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


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"
