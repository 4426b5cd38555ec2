"""``tenant add|list|check|consent-url``: the tenants this installation protects."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from entra_backup.cli.context import print_json, warn, workspace
from entra_backup.config import TenantRecord
from entra_backup.domain.errors import UsageError
from entra_backup.domain.object_types import select_types
from entra_backup.graph.client import TenantConnection
from entra_backup.graph.clouds import resolve_endpoints
from entra_backup.services import tenants as service
from entra_backup.services.backup.scope import BackupScope

app = typer.Typer(help="Register and check tenants.", no_args_is_help=True)


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


@app.command("add")
def add(
    name: str = typer.Argument(..., help="A short name for the tenant."),
    tenant_id: str = typer.Option(..., help="Tenant GUID or domain."),
    client_id: str = typer.Option(..., help="Application (client) id of the backup app."),
    client_secret_env: str | None = typer.Option(
        None, help="Environment variable that holds the client secret."),
    certificate: Path | None = typer.Option(None, help="PEM with private key and certificate."),
    authority: str | None = typer.Option(None, help="Authority URL (national cloud, emulator)."),
    graph_url: str | None = typer.Option(None, help="Graph base URL with version."),
    ca_bundle: Path | None = typer.Option(None, help="CA bundle to trust instead of the system."),
    cloud: str = typer.Option("public", help="public, usgov, usgov-dod or china."),
    size: str = typer.Option("medium", help="small, medium or large (throttle budget)."),
    types: str | None = typer.Option(None, help="Object types to back up (default all)."),
    users: str | None = typer.Option(None, help="Only these user ids (comma-separated)."),
    groups: str | None = typer.Option(None, help="Only these group ids."),
    member_of: str | None = typer.Option(None, help="Only members of these group ids."),
    replace_existing: bool = typer.Option(False, "--replace", help="Replace a tenant."),
) -> None:
    """Register a tenant. Secrets are never stored: give the variable that holds it."""
    if (client_secret_env is None) == (certificate is None):
        raise UsageError("give exactly one of --client-secret-env VAR or --certificate PEM")
    if certificate is not None and not certificate.is_file():
        raise UsageError(f"certificate file {certificate} does not exist")
    if ca_bundle is not None and not ca_bundle.is_file():
        raise UsageError(f"CA bundle {ca_bundle} does not exist")
    space = workspace()
    if name in space.tenants() and not replace_existing:
        raise UsageError(f"a tenant named {name!r} exists already (use --replace)")
    resolve_endpoints(service.check_tenant_id(tenant_id), cloud=cloud, authority=authority,
                      graph_url=graph_url)
    scope = BackupScope(tuple(t.name for t in select_types(_split(types))),
                        frozenset(_split(users)), frozenset(_split(groups)),
                        frozenset(_split(member_of)))
    record = TenantRecord(
        name=service.check_tenant_name(name), tenant_id=service.check_tenant_id(tenant_id),
        client_id=service.check_client_id(client_id), secret_env=client_secret_env,
        certificate=None if certificate is None else str(certificate.resolve()),
        authority=authority, graph_url=graph_url,
        ca_bundle=None if ca_bundle is None else str(ca_bundle.resolve()),
        cloud=cloud, size=size.lower(), scope=scope.to_json())
    space.save_tenant(record)
    if client_secret_env is not None and not space.environ.get(client_secret_env):
        # Accepted all the same: a scheduler may set the variable before each backup.
        warn(f"the environment variable {client_secret_env} is not set now; set it to "
             "the client secret before backing up")
    typer.echo(f"Tenant {name!r} registered. Check its permissions: "
               f"entra-backup tenant check {name}")


@app.command("list")
def list_tenants(json_output: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """The registered tenants."""
    tenants = workspace().tenants()
    if json_output:
        print_json([asdict(record) for record in tenants.values()])
        return
    table = Table("name", "tenant id", "client id", "credential", "graph")
    for record in tenants.values():
        credential = (f"${record.secret_env}" if record.secret_env
                      else f"certificate {record.certificate}")
        table.add_row(record.name, record.tenant_id, record.client_id, credential,
                      record.graph_url or record.cloud)
    Console().print(table)


@app.command("check")
def check(
    name: str = typer.Argument(..., help="The tenant's name."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Sign in as the backup app and report, per type, whether it may read it."""
    space = workspace()
    record = space.tenant(name)
    roles, report = asyncio.run(service.check_access(space.connection(record)))
    missing = sorted({item.needed for item in report if not item.granted})
    if json_output:
        print_json({"tenant": name, "roles": sorted(roles), "missing": missing,
                    "types": [item.to_json() for item in report]})
    else:
        table = Table("type", "readable", "permission")
        for item in report:
            table.add_row(item.type, "yes" if item.granted else "NO",
                          item.granted_by if item.granted else f"missing {item.needed}")
        Console().print(table)
        typer.echo("Every type is readable." if not missing else
                   "Grant these application permissions: " + ", ".join(missing))
    if missing:
        typer.echo(f"entra-backup: error: the app lacks {', '.join(missing)}", err=True)
        raise typer.Exit(1)


@app.command("consent-url")
def consent_url(
    name: str = typer.Argument(..., help="The tenant's name."),
    redirect_uri: str | None = typer.Option(None, help="Where to land after consent."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The link a tenant administrator opens to grant the backup app its permissions."""
    record = workspace().tenant(name)
    connection = TenantConnection(record.tenant_id, record.client_id, "",
                                          cloud=record.cloud, authority=record.authority,
                                          graph_url=record.graph_url)
    url = service.consent_url(connection, redirect_uri)
    if json_output:
        print_json({"tenant": name, "url": url})
    else:
        typer.echo(url)
