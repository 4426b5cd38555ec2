"""``tenant add|edit|remove|list|show|check|consent-url``: the tenants this installation
protects."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from entra_backup.bootstrap import CERTIFICATE_FILE, Workspace
from entra_backup.cli import render
from entra_backup.cli.context import print_json, warn, workspace
from entra_backup.cli.retention_cmd import (
    KEEP_DAILY,
    KEEP_HOURLY,
    KEEP_LAST,
    KEEP_MONTHLY,
    KEEP_WEEKLY,
    KEEP_WITHIN,
    KEEP_YEARLY,
)
from entra_backup.config import TenantRecord, save_tenants
from entra_backup.domain.errors import EntraBackupError, UsageError
from entra_backup.domain.object_ids import checked_id
from entra_backup.domain.object_types import select_types
from entra_backup.graph.client import TenantConnection
from entra_backup.graph.clouds import resolve_endpoints
from entra_backup.services import retention
from entra_backup.services import tenants as service
from entra_backup.services.backup.scope import BackupScope
from entra_backup.services.retention import RuleOptions

app = typer.Typer(help="Register and check tenants.", no_args_is_help=True)


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _ids(value: str | None, kind: str, option: str) -> frozenset[str]:
    """Object ids of a scope option, each a well-formed id of ``kind`` (member_of groups
    are read at ``/groups/{id}/members``); MalformedObjectId otherwise."""
    return frozenset(checked_id(kind, part, option) for part in _split(value))


@app.command("add")
def add(
    name: str = typer.Argument(..., help="A short name for the tenant."),
    tenant_id: str = typer.Option(..., help="Tenant GUID or domain."),
    client_id: str = typer.Option(..., help="Application (client) id of the backup app."),
    client_secret_env: str | None = typer.Option(
        None, help="Environment variable that holds the client secret."),
    certificate: Path | None = typer.Option(
        None, help="PEM, or PKCS#12 (.pfx/.p12), with private key and certificate."),
    certificate_passphrase_env: str | None = typer.Option(
        None, help="Environment variable that holds the certificate key's passphrase."),
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
    keep_last: int | None = KEEP_LAST,
    keep_hourly: int | None = KEEP_HOURLY,
    keep_daily: int | None = KEEP_DAILY,
    keep_weekly: int | None = KEEP_WEEKLY,
    keep_monthly: int | None = KEEP_MONTHLY,
    keep_yearly: int | None = KEEP_YEARLY,
    keep_within: str | None = KEEP_WITHIN,
) -> None:
    """Register a tenant. Secrets are never stored: give the variable that holds it.

    --keep-* store the tenant's retention policy, applied by 'forget NAME' (default: keep
    every snapshot).
    """
    rules = RuleOptions(keep_last, keep_hourly, keep_daily, keep_weekly, keep_monthly,
                        keep_yearly, keep_within)
    if (client_secret_env is None) == (certificate is None):
        raise UsageError("give exactly one of --client-secret-env VAR or --certificate PEM")
    if certificate_passphrase_env is not None and certificate is None:
        raise UsageError("--certificate-passphrase-env needs --certificate")
    _check_files(certificate, ca_bundle)
    space = workspace()
    if name in space.tenants() and not replace_existing:
        raise UsageError(f"a tenant named {name!r} exists already (use --replace)")
    resolve_endpoints(service.check_tenant_id(tenant_id), cloud=cloud, authority=authority,
                      graph_url=graph_url)
    scope = BackupScope(tuple(t.name for t in select_types(_split(types))),
                        _ids(users, "users", "--users"), _ids(groups, "groups", "--groups"),
                        _ids(member_of, "groups", "--member-of"))
    record = TenantRecord(
        name=service.check_tenant_name(name), tenant_id=service.check_tenant_id(tenant_id),
        client_id=service.check_client_id(client_id), secret_env=client_secret_env,
        certificate=None if certificate is None else str(certificate.resolve()),
        certificate_passphrase_env=certificate_passphrase_env or None,
        authority=authority, graph_url=graph_url,
        ca_bundle=None if ca_bundle is None else str(ca_bundle.resolve()),
        cloud=cloud, size=size.lower(), scope=scope.to_json(),
        retention=rules.policy().to_json())
    space.save_tenant(record)
    _warn_shared(space, certificate)
    _warn_unset(space.environ, client_secret_env, "the client secret")
    _warn_unset(space.environ, certificate_passphrase_env or None,
                "the certificate's passphrase")
    typer.echo(f"Tenant {name!r} registered. Check its permissions: "
               f"entra-backup tenant check {name}")


@app.command("list")
def list_tenants(json_output: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """The registered tenants."""
    tenants = workspace().tenants()
    if json_output:
        print_json([asdict(record) for record in tenants.values()])
        return
    if not tenants:
        typer.echo("No tenants registered yet; add one with 'entra-backup tenant add'.")
        return
    table = render.table(["name", render.Column("tenant id", ident=True),
                          render.Column("client id", ident=True), "credential", "graph",
                          "retention"])
    for record in tenants.values():
        credential = (f"${record.secret_env}" if record.secret_env
                      else f"certificate {record.certificate}")
        if record.certificate_passphrase_env:
            credential += f" (passphrase ${record.certificate_passphrase_env})"
        table.add_row(record.name, record.tenant_id, record.client_id, credential,
                      record.graph_url or record.cloud, _describe_rules(record.retention))
    render.print_table(Console(), table)


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


@app.command("show")
def show(
    name: str = typer.Argument(..., help="The tenant's name."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """One tenant's registration: connection, scope and retention policy."""
    record = workspace().tenant(name)
    if json_output:
        print_json(asdict(record))
        return
    for key, value in asdict(record).items():
        typer.echo(f"{key}: {_describe_rules(value) if key == 'retention' else value}")


def _describe_rules(rules: dict[str, Any]) -> str:
    if not rules:
        return "keep all"
    return ", ".join(f"{name.removeprefix('keep_')} {value}" for name, value in rules.items())


@app.command("edit")
def edit(
    name: str = typer.Argument(..., help="The tenant's name."),
    types: str | None = typer.Option(None, help="Object types to back up ('all' for all)."),
    users: str | None = typer.Option(None, help="Only these user ids ('' for all users)."),
    groups: str | None = typer.Option(None, help="Only these group ids ('' for all)."),
    member_of: str | None = typer.Option(None, help="Only members of these group ids."),
    client_secret_env: str | None = typer.Option(
        None, help="Environment variable that holds the client secret (replaces a "
        "certificate)."),
    certificate: Path | None = typer.Option(
        None, help="PEM, or PKCS#12 (.pfx/.p12), with private key and certificate (replaces "
        "a secret variable)."),
    certificate_passphrase_env: str | None = typer.Option(
        None, help="Environment variable that holds the certificate key's passphrase ('' "
        "for none)."),
    authority: str | None = typer.Option(None, help="Authority URL (national cloud, emulator)."),
    graph_url: str | None = typer.Option(None, help="Graph base URL with version."),
    ca_bundle: Path | None = typer.Option(None, help="CA bundle to trust instead of the system."),
    keep_last: int | None = KEEP_LAST,
    keep_hourly: int | None = KEEP_HOURLY,
    keep_daily: int | None = KEEP_DAILY,
    keep_weekly: int | None = KEEP_WEEKLY,
    keep_monthly: int | None = KEEP_MONTHLY,
    keep_yearly: int | None = KEEP_YEARLY,
    keep_within: str | None = KEEP_WITHIN,
    keep_all: bool = typer.Option(False, "--keep-all", help="Drop the retention policy: "
                                  "keep every snapshot."),
) -> None:
    """Change a tenant's scope, connection or retention policy (--keep-N 0 drops a rule)."""
    rules = RuleOptions(keep_last, keep_hourly, keep_daily, keep_weekly, keep_monthly,
                        keep_yearly, keep_within)
    if keep_all and rules.given():
        raise UsageError("give either --keep-all or --keep-* rules, not both")
    if client_secret_env is not None and certificate is not None:
        raise UsageError("give at most one of --client-secret-env VAR or --certificate PEM")
    _check_files(certificate, ca_bundle)
    space = workspace()
    record = space.tenant(name)
    changes: dict[str, Any] = _connection_changes(client_secret_env, certificate, authority,
                                                  graph_url, ca_bundle)
    if certificate_passphrase_env is not None:
        changes["certificate_passphrase_env"] = certificate_passphrase_env or None
    changes.update(_scope_change(record, types, users, groups, member_of))
    if keep_all:
        changes["retention"] = {}
    elif rules.given():
        changes["retention"] = rules.policy(base=record.retention).to_json()
    edited, changed = service.edit_record(record, changes)
    resolve_endpoints(edited.tenant_id, cloud=edited.cloud, authority=edited.authority,
                      graph_url=edited.graph_url)
    if not changed:
        typer.echo(f"Nothing to change: tenant {name!r} already has these settings.")
        return
    space.save_tenant(edited)
    _warn_shared(space, certificate)
    _warn_unset(space.environ, client_secret_env, "the client secret")
    _warn_unset(space.environ, certificate_passphrase_env or None,
                "the certificate's passphrase")
    typer.echo(f"Tenant {name!r} updated: {', '.join(changed)}.")


def _warn_shared(space: Workspace, certificate: Path | None) -> None:
    if certificate is not None:
        space.warn_if_shared(certificate.resolve(), CERTIFICATE_FILE)


def _warn_unset(environ: Mapping[str, str], variable: str | None, holding: str) -> None:
    """Accepted all the same: a scheduler may set the variable before each backup."""
    if variable is not None and not environ.get(variable):
        warn(f"the environment variable {variable} is not set now; set it to {holding} "
             "before backing up")


def _check_files(certificate: Path | None, ca_bundle: Path | None) -> None:
    if certificate is not None and not certificate.is_file():
        raise UsageError(f"certificate file {certificate} does not exist")
    if ca_bundle is not None and not ca_bundle.is_file():
        raise UsageError(f"CA bundle {ca_bundle} does not exist")


def _connection_changes(secret_env: str | None, certificate: Path | None,
                        authority: str | None, graph_url: str | None,
                        ca_bundle: Path | None) -> dict[str, Any]:
    given: dict[str, Any] = {
        "secret_env": secret_env, "authority": authority, "graph_url": graph_url,
        "certificate": None if certificate is None else str(certificate.resolve()),
        "ca_bundle": None if ca_bundle is None else str(ca_bundle.resolve()),
    }
    return {key: value for key, value in given.items() if value is not None}


def _scope_change(record: TenantRecord, types: str | None, users: str | None,
                  groups: str | None, member_of: str | None) -> dict[str, Any]:
    if types is None and users is None and groups is None and member_of is None:
        return {}
    scope = BackupScope.from_json(record.scope)
    if types is not None:
        wanted = [] if types.strip().lower() == "all" else _split(types)
        if not wanted and types.strip().lower() != "all":
            raise UsageError("--types needs type names, or 'all'")
        scope = replace(scope, types=tuple(t.name for t in select_types(wanted)))
    if users is not None:
        scope = replace(scope, user_ids=_ids(users, "users", "--users"))
    if groups is not None:
        scope = replace(scope, group_ids=_ids(groups, "groups", "--groups"))
    if member_of is not None:
        scope = replace(scope, member_of=_ids(member_of, "groups", "--member-of"))
    return {"scope": scope.to_json()}


@app.command("remove")
def remove(
    name: str = typer.Argument(..., help="The tenant's name."),
    delete_snapshots: bool = typer.Option(False, "--delete-snapshots",
                                          help="Also delete every snapshot of the tenant."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask before deleting snapshots."),
) -> None:
    """Remove a tenant from the configuration; its snapshots are kept unless asked.

    Kept snapshots stay readable, searchable and restorable. --delete-snapshots also works
    for a tenant removed earlier.
    """
    space = workspace()
    registered = name in space.tenants()
    if not delete_snapshots:
        space.tenant(name)  # the one-line "no tenant named ..." error
        kept = _count_snapshots(space, name)
        _unregister(space, name)
        typer.echo(f"Tenant {name!r} removed from the configuration. "
                   + ("Its snapshots are kept" if kept is None
                      else f"{kept} snapshot(s) of it are kept")
                   + f"; delete them with 'entra-backup tenant remove {name} "
                   "--delete-snapshots', then 'entra-backup prune'.")
        return
    repo = space.open_repository()
    count = retention.snapshot_count(repo, name)
    if not registered and count == 0:
        space.tenant(name)
    _confirm(f"Delete all {count} snapshot(s) of tenant {name!r}? This cannot be undone.",
             yes or count == 0)
    with space.open_catalog() as catalog:
        deleted = retention.delete_tenant_snapshots(repo, catalog, name)
    if registered:
        _unregister(space, name)
    typer.echo(f"Tenant {name!r} removed; {len(deleted.removed)} snapshot(s) deleted. "
               "Run 'entra-backup prune' to reclaim their space.")
    if deleted.retained:
        raise retention.object_lock_refusal(sorted(deleted.retained),
                                            next(iter(deleted.retained.values())))
    if deleted.catalog.startswith("failed"):
        typer.echo(f"entra-backup: warning: the catalog was not updated ({deleted.catalog});"
                   " run 'entra-backup reindex'", err=True)
        raise typer.Exit(1)


def _count_snapshots(space: Workspace, name: str) -> int | None:
    """The tenant's snapshot count, or None when the repository cannot be opened now."""
    try:
        return retention.snapshot_count(space.open_repository(), name)
    except EntraBackupError:
        return None


def _unregister(space: Workspace, name: str) -> None:
    remaining = {key: record for key, record in space.tenants().items() if key != name}
    save_tenants(space.home, remaining)


def _confirm(question: str, yes: bool) -> None:
    """Ask on a terminal; without one, only --yes may go ahead."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError("refusing to delete snapshots without confirmation: no terminal to "
                         "ask on; add --yes")
    if not typer.confirm(question, default=False):
        typer.echo("Nothing was removed.")
        raise typer.Exit(1)
