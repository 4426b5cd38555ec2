"""``restore NAME --snapshot S`` and ``restore-report NAME [RUN|latest]``: plan, ask,
then execute.

``--dry-run`` prints the plan (counts per type and action, the Graph writes and the
estimated duration, what the real run will need, then every step that writes), or with
``--json`` the plan as one JSON document, which is how a plan is saved for review
(``restore NAME --snapshot S --dry-run --json > plan.json``; the document carries a MAC
keyed from the repository's master key, and ``--plan FILE`` refuses a file whose MAC is
missing or wrong); ``--dry-run --plan FILE`` shows a saved plan and says whether the
tenant changed since it was made.

Without ``--dry-run`` the plan (computed now, or the saved one, refused if the tenant
changed since) is summed up and, unless ``--yes``, confirmed on the terminal (refused
outright without one); a plan that re-creates users without ``--default-password-env``
is refused before any run folder exists. Then the write permissions it needs are checked
and named if missing, before any write; progress goes to a journal, so running the same
command again after a kill continues the unfinished run (with ``--plan`` too: the journal,
not a new comparison with the tenant, says what is left); the report is saved with the
run (``restore-report NAME RUN [--json|--csv]``, whose exact command ``restore`` prints
last) and the command exits non-zero if an item failed.

After the steps the tenant is verified against the snapshot (``services.restore.verify``):
what is still missing is written in a second pass, the headline is printed, and the
command exits 27 if anything in scope still differs without an accepted reason.
``--verify-only`` runs that comparison alone, writing nothing.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import cast

import orjson
import typer
from rich.console import Console

from entra_backup.bootstrap import Workspace
from entra_backup.cli.context import print_json, workspace
from entra_backup.cli.render import plural
from entra_backup.cli.restore_confirm import confirm, require_terminal
from entra_backup.cli.restore_progress import RestoreBar
from entra_backup.cli.restore_render import (
    PASSWORD_OPTION,
    password_hint,
    print_outcome,
    render_report,
    render_runs,
    render_steps,
    render_summary,
    render_verification,
    report_command,
)
from entra_backup.domain.errors import UsageError
from entra_backup.domain.object_types import by_name
from entra_backup.domain.restore.authentic import check_plan, seal_plan
from entra_backup.domain.restore.plan import Action, CaState, RestorePlan, changed_types
from entra_backup.domain.restore.plan_ids import check_plan_ids
from entra_backup.graph.client import GraphClient, TenantConnection
from entra_backup.graph.errors import PermissionDenied
from entra_backup.services import browse
from entra_backup.services.leftovers import clean_stale_scratch
from entra_backup.services.restore.execute import execute_plan
from entra_backup.services.restore.plan import (
    RestoreOptions,
    SettingsMode,
    make_plan,
    read_live,
)
from entra_backup.services.restore.report import RestoreReport
from entra_backup.services.restore.runs import (
    LATEST,
    RestoreRun,
    earlier_id_map,
    find_run,
    is_run_reference,
    list_runs,
    start_run,
    unfinished_run,
)
from entra_backup.services.restore.summary import (
    invited_guests,
    plan_ca_state,
    still_to_do,
    summarize,
)
from entra_backup.services.restore.validate import PlanWithoutLiveState, unguarded_types
from entra_backup.services.restore.verification import Verification
from entra_backup.services.restore.verify import verify_only
from entra_backup.services.tenants import missing_for_restore, token_roles
from entra_backup.store.crypto import RepositoryKeys
from entra_backup.store.repository import Repository
from entra_backup.store.snapshot import Snapshot


def restore(
    name: str = typer.Argument(..., help="The tenant's name."),
    snapshot: str = typer.Option(..., "--snapshot",
                                 help="Snapshot id, prefix, 'latest', or a date-time (the "
                                      "last snapshot at or before it)."),
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
    ca_state: str | None = typer.Option(None, "--ca-state",
                                        help="Re-created Conditional Access policies: "
                                             "report-only (the default) or as-backed-up; "
                                             "a saved plan keeps the state it was made "
                                             "with."),
    default_password_env: str | None = typer.Option(
        None, "--default-password-env",
        help="Variable holding the password of re-created users (required when the plan "
             "re-creates users; they must change it at their next sign-in)."),
    dry_run: bool = typer.Option(False, "--dry-run",
                                 help="Print the plan; write nothing to the tenant."),
    plan_file: Path | None = typer.Option(None, "--plan",
                                          help="A plan saved by --dry-run --json."),
    send_invitations: bool = typer.Option(
        False, "--send-invitations",
        help="Have Graph e-mail the guests it invites again (off: the report lists each "
             "guest's redeem link to pass on)."),
    yes: bool = typer.Option(False, "--yes", "-y",
                             help="Execute without asking (needed when stdin is not a "
                                  "terminal)."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
    verify_only: bool = typer.Option(False, "--verify-only",
                                     help="Compare the tenant with the snapshot as a restore "
                                          "would, write nothing, and exit non-zero if "
                                          "anything differs without an accepted reason."),
) -> None:
    """Restore the tenant to a snapshot: a plan first (--dry-run), then its execution."""
    options = _options(types, objects, no_relationships, deleted_only, settings, remove_new,
                       ca_state)
    if verify_only:
        _verify_only(name, snapshot, options, dry_run=dry_run, plan_file=plan_file,
                     json_output=json_output)
        return
    if not dry_run:
        require_terminal(yes)
    password = None if dry_run else _password(default_password_env)
    target = _Target.open(name, snapshot)
    if plan_file is not None:
        plan = _saved_plan(target, plan_file, options, ca_state)
        changed = _changed_unless_resumed(target, plan, dry_run=dry_run)
    else:
        plan, changed = _current_plan(target, options, resume=not dry_run), []
    if dry_run:
        _show_dry_run(target, plan, changed, json_output,
                      password_given=default_password_env is not None)
        return
    if changed:
        raise UsageError(f"the tenant changed since the plan was made ({', '.join(changed)}"
                         "); make the plan again (restore --dry-run) and review it")
    _confirm_and_execute(target, plan, password, yes=yes, json_output=json_output,
                         send_invitations=send_invitations)


@dataclass(frozen=True)
class _Target:
    """The tenant and snapshot a restore is about, with what reaches them."""

    space: Workspace
    name: str
    repo: Repository
    snapshot: Snapshot
    connection: TenantConnection

    @classmethod
    def open(cls, name: str, snapshot: str) -> _Target:
        clean_stale_scratch()
        space = workspace()
        record = space.tenant(name)
        repo = space.open_repository()
        return cls(space, name, repo, browse.resolve_snapshot(repo, name, snapshot),
                   space.connection(record))


def _options(types: list[str], objects: list[str], no_relationships: bool,
             deleted_only: bool, settings: str, remove_new: bool,
             ca_state: str | None) -> RestoreOptions:
    if settings not in ("overwrite", "skip"):
        raise UsageError(f"--settings must be overwrite or skip, not {settings!r}")
    if ca_state not in (None, "report-only", "as-backed-up"):
        raise UsageError(f"--ca-state must be report-only or as-backed-up, not {ca_state!r}")
    for type_name in types:
        by_name(type_name)
    return RestoreOptions(types=tuple(types), object_ids=tuple(objects),
                          relationships=not no_relationships, deleted_only=deleted_only,
                          settings=cast(SettingsMode, settings), remove_new=remove_new,
                          ca_state=cast(CaState, ca_state or "report-only"))


def _current_plan(target: _Target, options: RestoreOptions, *, resume: bool) -> RestorePlan:
    """The plan of the unfinished run of the same restore (when ``resume``), else a new
    one computed against the live tenant."""
    if resume:
        resumed = _resumed_plan(target, options)
        if resumed is not None:
            return resumed
    warnings: list[str] = []
    known = earlier_id_map(target.space.home, target.name, target.repo.keys, warnings)
    _warn(warnings)

    async def compute() -> RestorePlan:
        async with GraphClient.connect(target.connection) as client:
            return await make_plan(client, target.repo, target.snapshot, options,
                                   known_ids=known)

    return asyncio.run(compute())


def _warn(warnings: list[str]) -> None:
    for warning in warnings:
        typer.echo(f"entra-backup: warning: {warning}", err=True)


def _confirm_and_execute(target: _Target, plan: RestorePlan, password: str | None, *,
                         send_invitations: bool,
                         yes: bool, json_output: bool) -> None:
    """Refuse what cannot run, show what will, ask, then execute. Every refusal comes
    before the run's folder exists, so none leaves an unfinished restore behind."""
    keys = target.repo.keys
    run = _continued_run(target, plan)
    if run is not None:
        _warn(run.journal_warnings(keys))
    left = still_to_do(plan, run.finished_keys(keys) if run else ())
    summary = summarize(left, invited_guests(left, target.repo, target.snapshot))
    if summary.needs_password and password is None:
        raise UsageError(f"the plan re-creates {summary.recreated_users} users: give "
                         f"{PASSWORD_OPTION} VARIABLE with their default password (they "
                         "must change it at their next sign-in); nothing was written")
    asyncio.run(_check_permissions(target.connection, plan))
    render_summary(Console(stderr=json_output), summary)
    if not yes and summary.writes:
        confirm(summary.writes, target.name)
    _execute(target, plan, run, summary.ca_state, password, json_output,
             send_invitations=send_invitations)


def _saved_plan(target: _Target, plan_file: Path, options: RestoreOptions,
                ca_state: str | None) -> RestorePlan:
    """The plan of ``--plan FILE``, authenticated and checked against the command line."""
    if replace(options, ca_state="report-only") != RestoreOptions():
        raise UsageError("a saved plan holds its own options; give --plan without "
                         "--type, --object or other restore options")
    plan = _read_plan(plan_file, target.repo.keys)
    if plan.tenant != target.name or plan.snapshot != target.snapshot.id:
        raise UsageError(f"{plan_file} is a plan of tenant {plan.tenant!r}, snapshot "
                         f"{plan.snapshot[:8]}, not of {target.name!r}, snapshot "
                         f"{target.snapshot.short_id}")
    recorded = plan_ca_state(plan)
    if ca_state is not None and ca_state != recorded:
        raise UsageError(f"{plan_file} was made with --ca-state {recorded}, which it "
                         f"executes; give --plan without --ca-state {ca_state} (or make "
                         "the plan again with it)")
    check_plan_ids(plan, str(plan_file))
    unguarded = unguarded_types(plan)
    if unguarded:
        raise PlanWithoutLiveState(f"{plan_file} writes {', '.join(unguarded)} without "
                                   "recording their live state, so a change of the tenant "
                                   "since could not be noticed; make the plan again")
    return plan


def _changed_unless_resumed(target: _Target, plan: RestorePlan, *,
                            dry_run: bool) -> list[str]:
    """The types changed since the saved plan was made; none when a run of this very
    plan stopped part way (and this is no dry run): its journal says what is left, and
    the tenant changed by what the run did, so it is not compared again."""
    resumed = None if dry_run else _continued_run(target, plan)
    if resumed is None:
        return _changed_since(target, plan)
    typer.echo(f"Continuing the unfinished restore {resumed.id} with its plan.", err=True)
    return []


def _changed_since(target: _Target, plan: RestorePlan) -> list[str]:
    """The types whose live objects changed since the plan was made."""
    async def current() -> dict[str, str]:
        async with GraphClient.connect(target.connection) as client:
            live = await read_live(client, target.snapshot,
                                   [by_name(t) for t in sorted(plan.live_state)])
        return live.state

    return changed_types(plan, asyncio.run(current()))


def _show_dry_run(target: _Target, plan: RestorePlan, changed: list[str], json_output: bool,
                  *, password_given: bool) -> None:
    keys = target.repo.keys
    summary = summarize(plan, invited_guests(plan, target.repo, target.snapshot))
    hint = summary.needs_password and not password_given
    if json_output:
        print_json(seal_plan({**plan.to_json(),
                              "needs_default_password": summary.needs_password},
                             keys.plan_mac))
    else:
        console = Console()
        render_summary(console, summary)
        if hint:
            console.print(password_hint(summary), highlight=False, markup=False,
                          soft_wrap=True)
        render_steps(console, plan.to_json())
    if changed:
        typer.echo(f"entra-backup: warning: the tenant changed since the plan was made "
                   f"({', '.join(changed)}); make it again before executing it", err=True)
        raise typer.Exit(1)


def _resumed_plan(target: _Target, options: RestoreOptions) -> RestorePlan | None:
    run = unfinished_run(target.space.home, options.to_json(), target.name,
                         target.snapshot.id)
    if run is None:
        return None
    plan = run.checked_plan(target.repo.keys)
    typer.echo(f"Continuing the unfinished restore {run.id} with its plan.", err=True)
    return plan


def _continued_run(target: _Target, plan: RestorePlan) -> RestoreRun | None:
    """The unfinished run executing this very plan (its authenticated plan.json holds the
    same plan), if any."""
    run = unfinished_run(target.space.home, plan.options, plan.tenant, plan.snapshot)
    if run is None or run.checked_plan(target.repo.keys).to_json() != plan.to_json():
        return None
    return run


async def _check_permissions(connection: TenantConnection, plan: RestorePlan) -> None:
    """Name the write permissions the restore app lacks, before asking or writing."""
    writing = sorted({item.type for item in plan.items if item.action is not Action.SKIP})
    async with GraphClient.connect(connection) as client:
        missing = missing_for_restore(await token_roles(client), writing)
    if missing:
        needed = sorted({p for permissions in missing.values() for p in permissions})
        raise PermissionDenied(f"the restore app lacks {', '.join(needed)} (needed for "
                               f"{', '.join(sorted(missing))}); nothing was written",
                               permission=needed[0])


def _password(variable: str | None) -> str | None:
    if variable is None:
        return None
    value = os.environ.get(variable, "")
    if not value:
        raise UsageError(f"--default-password-env names {variable}, which is empty or not "
                         "set; re-created users need a default password")
    return value


def _execute(target: _Target, plan: RestorePlan, run: RestoreRun | None, ca_state: CaState,
             password: str | None, json_output: bool, *, send_invitations: bool) -> None:
    repo, snapshot = target.repo, target.snapshot

    async def go() -> RestoreReport:
        async with GraphClient.connect(target.connection) as client:
            chosen = run or start_run(target.space.home, plan, repo.keys)
            if json_output:
                report = await execute_plan(client, repo, snapshot, plan, chosen.journal,
                                            default_password=password, ca_state=ca_state,
                                            send_invitations=send_invitations,
                                            verify=earlier)
            else:
                with RestoreBar(Console(stderr=True), len(plan.items),
                                chosen.finished_steps(repo.keys)) as bar:
                    report = await execute_plan(client, repo, snapshot, plan,
                                                chosen.journal, default_password=password,
                                                ca_state=ca_state, progress=bar,
                                                send_invitations=send_invitations,
                                                verify=earlier)
            chosen.save_report(report)
            report_ids.append(chosen.id)
            return report

    report_ids: list[str] = []
    earlier = earlier_id_map(target.space.home, target.name, target.repo.keys)
    report = asyncio.run(go())
    run_id = report_ids[0]
    if json_output:
        print_json({"run": run_id, **report.to_json(),
                    "report_command": report_command(plan.tenant, run_id)})
    else:
        print_outcome(Console(), report, run_id)
    if not report.ok:
        typer.echo(f"entra-backup: error: {len(report.failed)} of "
                   f"{plural(len(report.items), 'restore step')} failed; see "
                   f"'{report_command(plan.tenant, run_id)}'", err=True)
        raise typer.Exit(1)
    if report.verification is not None and not report.verification.ok:
        raise report.verification.failure()


def _verify_only(name: str, snapshot: str, options: RestoreOptions, *, dry_run: bool,
                 plan_file: Path | None, json_output: bool) -> None:
    """``--verify-only``: the tenant compared with the snapshot, nothing written."""
    if dry_run or plan_file is not None:
        raise UsageError("--verify-only writes nothing and makes no plan; give it without "
                         "--dry-run or --plan")
    target = _Target.open(name, snapshot)

    async def go() -> Verification:
        async with GraphClient.connect(target.connection) as client:
            return await verify_only(client, target.repo, target.snapshot, options,
                                     earlier_id_map(target.space.home, target.name,
                                                    target.repo.keys))

    verification = asyncio.run(go())
    if json_output:
        print_json({"tenant": target.name, "snapshot": target.snapshot.id,
                    "verification": verification.to_json()})
    else:
        render_verification(Console(), verification)
    if not verification.ok:
        raise verification.failure()


def restore_report(
    name: str = typer.Argument(..., metavar="NAME",
                               help="The tenant's name (or, alone, a run's id)."),
    run_id: str = typer.Argument(LATEST, metavar="RUN",
                                 help="The run's id, a unique prefix of it, or 'latest'."),
    list_runs_option: bool = typer.Option(False, "--list",
                                          help="List the tenant's restore runs."),
    json_output: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    csv_output: bool = typer.Option(False, "--csv", help="Print the report as CSV."),
) -> None:
    """The saved report of a restore run: every step done, skipped or failed, and why;
    with --list, the tenant's restore runs."""
    space = workspace()
    space.private_home()  # restore runs hold tenant data: only once unlocked
    if list_runs_option:
        if csv_output:
            raise UsageError("--list prints a table or --json, not --csv")
        _known_tenant(space, name)
        runs = list_runs(space.home, name)
        if json_output:
            print_json({"tenant": name, "runs": [run.to_json() for run in runs]})
        else:
            render_runs(Console(), name, runs)
        return
    run = _report_run(space, name, run_id)
    report = run.directory / ("report.csv" if csv_output else "report.json")
    if not report.exists():
        raise UsageError(f"restore {run.id} has no report yet (it did not finish); run the "
                         "same restore command again to continue it")
    text = report.read_text(encoding="utf-8")
    if csv_output or json_output:
        typer.echo(text, nl=False)
        return
    render_report(Console(), run.id, orjson.loads(text))


def _report_run(space: Workspace, name: str, run_id: str) -> RestoreRun:
    """``NAME [RUN|latest]``, or the older ``RUN`` alone when it names no tenant."""
    known = space.tenants()
    if run_id == LATEST and name not in known and is_run_reference(space.home, name):
        return find_run(space.home, name)
    _known_tenant(space, name)
    return find_run(space.home, run_id, tenant=name)


def _known_tenant(space: Workspace, name: str) -> None:
    """A registered tenant, or one that was restored before it was removed."""
    if name not in space.tenants() and not list_runs(space.home, name):
        space.tenant(name)


def _read_plan(path: Path, keys: RepositoryKeys) -> RestorePlan:
    """The plan in ``path``, refused unless its MAC is right (PlanNotAuthentic)."""
    try:
        value = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise UsageError(f"cannot read the plan {path}: {exc.strerror or exc}") from exc
    except orjson.JSONDecodeError as exc:
        raise UsageError(f"{path} is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise UsageError(f"{path} is not a restore plan")
    RestorePlan.from_json(value)  # another format or version: the clearer error first
    check_plan(value, keys.plan_mac, str(path))
    return RestorePlan.from_json(value)
