"""``entra-backup demo`` (what ``make demo`` runs): the product's main job, end to end.

It serves an emulated tenant over HTTPS, initialises a repository and catalog in the demo
home, registers the tenant, runs a first backup, changes a few things in the tenant
through Graph, runs an incremental backup, prints the difference and the plan of a
restore to the first snapshot (a dry run: nothing is written), and keeps the emulator
serving so the printed commands can be tried (Ctrl+C stops it).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import typer
from rich.console import Console
from rich.table import Table

from entra_backup.domain.errors import EntraBackupError, UsageError
from entra_backup.domain.object_ids import path_segment
from entra_backup.graph.client import GraphClient, TenantConnection

SECRET_VARIABLE = "DEMO_CLIENT_SECRET"
DEMO_PASSPHRASE = "demo passphrase: use a long random one for real data"


def demo(
    users: int = typer.Option(300, help="Users in the demo tenant."),
    seed: int = typer.Option(7, help="Seed of the tenant generator."),
    port: int = typer.Option(0, help="Port to listen on; 0 picks a free one."),
    home: Path = typer.Option(Path(".demo-home"), help="Where the demo keeps its files."),
    serve: bool = typer.Option(True, help="Keep serving after the backups (Ctrl+C stops)."),
) -> None:
    """Back up an emulated tenant twice and show what changed (Ctrl+C stops serving)."""
    from graph_emulator.identity import CertificateError
    from graph_emulator.runtime import Options, Runtime
    from graph_emulator.server import ServerError

    console = Console()
    home = home.resolve()
    options = Options(users=users, seed=seed, port=port, state_dir=home / "emulator")
    try:
        options.validate()
        with console.status("Generating the tenant and starting the emulator..."):
            runtime = Runtime(options)
            runtime.start()
    except (ValueError, ServerError, CertificateError) as exc:
        raise UsageError(str(exc)) from exc
    info = runtime.connection_info()
    try:
        console.print(orjson.dumps(info).decode(), soft_wrap=True, markup=False,
                      highlight=False)
        console.print(_holdings(runtime.holdings()))
        done = _run_backups(console, info, home / "entra-backup")
        console.print(_next_steps(info, done), soft_wrap=True, markup=False,
                      highlight=False)
        if serve:
            threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        runtime.stop()
    console.print("Emulator stopped.")


@dataclass(frozen=True)
class DemoRun:
    """What the suggested commands name: the home, both snapshots, a changed user."""

    home: Path
    first: str
    second: str
    changed_user: str


@dataclass(frozen=True)
class Changes:
    """What the demo changed in the tenant, as lines to print and the retitled user's id."""

    lines: list[str]
    changed_user: str


def _run_backups(console: Console, info: dict[str, str], product_home: Path) -> DemoRun:
    """init, tenant add, backup, change the tenant, backup, diff: as a user would."""
    from entra_backup.cli.main import main

    shutil.rmtree(product_home, ignore_errors=True)
    os.environ.setdefault("ENTRA_BACKUP_PASSPHRASE", DEMO_PASSPHRASE)
    os.environ[SECRET_VARIABLE] = info["client_secret"]
    cli = ["--home", str(product_home)]
    steps: list[tuple[str, list[str]]] = [
        ("Initialising an encrypted repository", ["init"]),
        ("Registering the emulated tenant", [
            "tenant", "add", "demo", "--tenant-id", info["tenant_id"], "--client-id",
            info["client_id"], "--client-secret-env", SECRET_VARIABLE, "--authority",
            info["authority"], "--graph-url", info["graph_url"], "--ca-bundle",
            info["ca_bundle"]]),
        ("First backup (full)", ["backup", "demo"]),
    ]
    for title, argv in steps:
        _step(console, title, main, [*cli, *argv])
    changed = asyncio.run(_change_tenant(info))
    console.rule("Changed in the tenant through Graph")
    for line in changed.lines:
        console.print(f"  {line}", markup=False, highlight=False)
    _step(console, "Second backup (incremental, by delta)", main, [*cli, "backup", "demo"])
    first, second = _snapshot_ids(product_home)
    _step(console, "What changed between the two snapshots", main,
          [*cli, "diff", "demo", first, "latest"])
    _step(console, "What a restore to the first snapshot would do (dry run)", main,
          [*cli, "restore", "demo", "--snapshot", first, "--dry-run"])
    return DemoRun(product_home, first, second, changed.changed_user)


def _step(console: Console, title: str, main: Any, argv: list[str]) -> None:
    console.rule(title)
    code = main(argv)
    if code not in (0, 1):
        raise EntraBackupError(f"the demo step '{title}' failed (exit code {code})")


def _snapshot_ids(product_home: Path) -> tuple[str, str]:
    """The ids of the first and the newest snapshot of the demo tenant."""
    from entra_backup.bootstrap import Workspace

    snapshots = Workspace(product_home).open_repository().snapshots("demo")
    return snapshots[0].id, snapshots[-1].id


async def _change_tenant(info: dict[str, str]) -> Changes:
    """An attribute change, a new user, a deletion and a new group member."""
    connection = TenantConnection(info["tenant_id"], info["client_id"], info["client_secret"],
                                  authority=info["authority"], graph_url=info["graph_url"],
                                  ca_bundle=info["ca_bundle"])
    async with GraphClient.connect(connection) as graph:
        people = [user async for user in graph.iterate(
            "/users", {"$select": "id,displayName,userPrincipalName,onPremisesSyncEnabled",
                       "$top": "50"})]
        cloud = [user for user in people if not user.get("onPremisesSyncEnabled")]
        first, second = cloud[0], cloud[1]
        domain = str(first["userPrincipalName"]).split("@", 1)[1]
        await graph.patch(f"/users/{path_segment('users', first['id'])}",
                          {"jobTitle": "Incident Commander"})
        created = await graph.post("/users", {
            "accountEnabled": True, "displayName": "Demo Newcomer",
            "mailNickname": "demo.newcomer", "userPrincipalName": f"demo.newcomer@{domain}",
            "passwordProfile": {"password": "Demo-Passw0rd-2026!",
                                "forceChangePasswordNextSignIn": True}})
        await graph.delete(f"/users/{path_segment('users', second['id'])}")
        group = await _assigned_group(graph)
        member = path_segment("directoryObjects", created["id"])
        await graph.post(f"/groups/{path_segment('groups', group['id'])}/members/$ref",
                         {"@odata.id": f"{info['graph_url']}/directoryObjects/{member}"})
    return Changes([f"jobTitle of {first['displayName']} set to 'Incident Commander' "
                    f"({first['id']})",
                    f"user {created['displayName']} created ({created['id']})",
                    f"user {second['displayName']} deleted (in the recycle bin)",
                    f"{created['displayName']} added to group {group['displayName']}"],
                   str(first["id"]))


async def _assigned_group(graph: GraphClient) -> dict[str, Any]:
    async for group in graph.iterate("/groups", {"$select": "id,displayName,groupTypes,"
                                                 "mailEnabled,securityEnabled"}):
        if "DynamicMembership" not in group.get("groupTypes", []) and group["securityEnabled"]:
            return group
    raise EntraBackupError("the demo tenant has no assigned security group")


def _holdings(counts: dict[str, int]) -> Table:
    table = Table(title="The emulated tenant holds")
    table.add_column("kind")
    table.add_column("objects", justify="right")
    for kind, count in counts.items():
        table.add_row(kind, f"{count:,}")
    return table


def _next_steps(info: dict[str, str], done: DemoRun) -> str:
    ca = info["ca_bundle"]
    run = ".venv/bin/entra-backup"
    first, second = done.first[:8], done.second[:8]
    return (
        "\nExplore the backups (in another shell, while this one serves; or first "
        "'. .venv/bin/activate' and type 'entra-backup'):\n"
        f"  export ENTRA_BACKUP_HOME={done.home}\n"
        f"  export ENTRA_BACKUP_PASSPHRASE='{os.environ['ENTRA_BACKUP_PASSPHRASE']}'\n"
        f"  export {SECRET_VARIABLE}='{info['client_secret']}'\n"
        f"  {run} snapshots demo\n"
        f"  {run} ls demo {second} --type users\n"
        f"  {run} show demo {done.changed_user}\n"
        f"  {run} search demo newcomer\n"
        f"  {run} search demo '' --deleted-only\n"
        f"  {run} diff demo {first} {second}\n"
        f"  {run} diff demo {second} live\n"
        f"  {run} export demo -o demo-export.zip\n"
        f"  {run} restore demo --snapshot {first} --dry-run\n"
        f"  {run} backup demo\n\n"
        f"Graph:     {info['graph_url']}\n"
        f"Authority: {info['authority']}\n"
        f"CA bundle: {ca}\n\n"
        "Get a token (client credentials), then call Graph with it:\n"
        f"  TOKEN=$(curl -s --cacert {ca} {info['authority']}/oauth2/v2.0/token "
        f"-d grant_type=client_credentials -d client_id={info['client_id']} "
        f"--data-urlencode client_secret='{info['client_secret']}' "
        "-d scope=https://graph.microsoft.com/.default | python3 -c "
        "'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')\n"
        f"  curl -s --cacert {ca} -H \"Authorization: Bearer $TOKEN\" "
        f"'{info['graph_url']}/users?$top=5&$select=displayName,userPrincipalName'\n\n"
        "Serving until Ctrl+C."
    )
