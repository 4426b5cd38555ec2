"""``restore NAME --snapshot S``: the plan of a restore, and (soon) its execution.

Only ``--dry-run`` is implemented: it prints the plan (counts per type and action, the
Graph writes and the estimated duration, then every step that writes), or with ``--json``
the plan as one JSON document, which is how a plan is saved for review
(``restore NAME --snapshot S --dry-run --json > plan.json``). ``--dry-run --plan FILE``
shows a saved plan and says whether the tenant changed since it was made. Executing a
plan arrives with the restore executor.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, cast

import orjson
import typer
from rich.console import Console
from rich.table import Table

from entra_backup.cli.context import print_json, workspace
from entra_backup.domain.errors import UsageError
from entra_backup.domain.object_types import by_name
from entra_backup.domain.restore.plan import Action, RestorePlan, changed_types
from entra_backup.graph.client import GraphClient
from entra_backup.services import browse
from entra_backup.services.restore.plan import (
    CaState,
    RestoreOptions,
    SettingsMode,
    make_plan,
    read_live,
)

NOT_YET = "executing a restore arrives with the restore executor; use --dry-run to see the plan"


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
        help="Variable holding the password of re-created users (else one is generated)."),
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
    _ = default_password_env  # for the executor: a plan does not depend on it
    if not dry_run:
        raise UsageError(NOT_YET)
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
                return await make_plan(client, repo, chosen, options)

        plan = asyncio.run(compute())
        changed = []
    if json_output:
        print_json(plan.to_json())
    else:
        render_plan(Console(), plan.to_json())
    if changed:
        typer.echo(f"entra-backup: warning: the tenant changed since the plan was made "
                   f"({', '.join(changed)}); make it again before executing it", err=True)
        raise typer.Exit(1)


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
