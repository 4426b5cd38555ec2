"""``snapshots``, ``ls``, ``show`` and ``search``: finding what was backed up."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import typer
from rich.console import Console

from entra_backup.cli import render
from entra_backup.cli.context import print_json, workspace
from entra_backup.domain.errors import UsageError
from entra_backup.services import browse
from entra_backup.services.browse import version_json

AT_HELP = ("The last snapshot at or before this date-time (ISO 8601, UTC unless an offset "
           "is given; a date alone means the end of that day).")


def snapshots(
    name: str = typer.Argument(..., help="The tenant's name."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The tenant's snapshots, oldest first; partial ones are marked."""
    space = workspace()
    space.tenant(name)
    found = [browse.snapshot_json(s) for s in space.open_repository().snapshots(name)]
    if json_output:
        print_json(found)
        return
    if not found:
        typer.echo(f"No snapshots of tenant {name!r} yet; run 'entra-backup backup {name}'.")
        return
    table = render.table([render.Column("id", ident=True), render.Column("time", ident=True),
                          render.Column("objects", right=True), "state"])
    for item in found:
        bad = [f"{t} {v['status']}" for t, v in item["types"].items() if v["status"] != "ok"]
        bad += [f"{t} {len(v['lost'])} lost" for t, v in item["types"].items() if "lost" in v]
        table.add_row(item["short_id"], item["time"], f"{item['objects']:,}",
                      "PARTIAL: " + ", ".join(bad) if bad else "complete")
    render.print_table(Console(), table)


def ls(
    name: str = typer.Argument(..., help="The tenant's name."),
    snapshot: str | None = typer.Argument(
        None, help="Snapshot id, unique prefix, 'latest' or a date-time (UTC unless given)."),
    type_name: str | None = typer.Option(None, "--type", help="Only this object type."),
    at: str | None = typer.Option(None, "--at", help=AT_HELP),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The objects of a snapshot, by type."""
    space = workspace()
    space.tenant(name)
    browse.check_type(type_name)
    repo = space.open_repository()
    chosen = browse.resolve_snapshot(repo, name, snapshot, at)
    rows = browse.list_objects(repo, chosen, type_name)
    if json_output:
        print_json({"snapshot": chosen.id, "objects": list(rows)})
        return
    listed = 0
    for row in rows:
        label = row["userPrincipalName"] or row["appId"] or ""
        typer.echo(f"{row['type']:<26} {row['id']:<38} {row['displayName'] or ''}"
                   + (f"  <{label}>" if label else ""))
        listed += 1
    if not listed:
        what = f"objects of type {type_name!r}" if type_name else "objects"
        typer.echo(f"No {what} in snapshot {chosen.short_id}.")


def show(
    name: str = typer.Argument(..., help="The tenant's name."),
    object_id: str = typer.Argument(..., help="The object's id, UPN, mail or appId."),
    snapshot: str | None = typer.Option(
        None, help="Snapshot id, prefix, 'latest' or date-time (default: newest holding it)."),
    at: str | None = typer.Option(None, "--at", help=AT_HELP),
    type_name: str | None = typer.Option(None, "--type",
                                         help="Only an object of this type (for an appId)."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """An object at a snapshot: properties, licences, relationships, memberships and
    version timeline."""
    space = workspace()
    space.tenant(name)
    browse.check_type(type_name)
    with space.open_catalog() as catalog:
        view = browse.show_object(space.open_repository(), catalog, name, object_id,
                                  snapshot=snapshot, at=at, type_name=type_name)
    data = view.to_json()
    if json_output:
        print_json(data)
        return
    typer.echo(f"{view.type} {view.id} at snapshot {view.snapshot.short_id} ({data['time']})")
    typer.echo(orjson.dumps(data["properties"], option=orjson.OPT_INDENT_2).decode())
    _echo_licences(data["license_names"])
    for relation, edges in data["relationships"].items():
        listed = edges if isinstance(edges, list) else ([edges] if edges else [])
        typer.echo(f"{relation}: {len(listed)}")
        for edge in listed:
            typer.echo(f"  {edge.get('@odata.type', '')} {edge.get('id')}"
                       + _named(data["names"].get(edge.get("id"))))
    _echo_memberships(data["memberships"])
    typer.echo("versions:")
    for row in data["timeline"]:
        typer.echo(f"  {row['version']}  from {row['first_snapshot'][:8]}  to "
                   f"{(row['last_snapshot'] or 'now')[:8]}"
                   + ("  (deleted)" if row["deleted"] else ""))


def _named(display_name: str | None) -> str:
    return f" ({display_name})" if display_name else ""


def _echo_licences(licences: list[dict[str, Any]]) -> None:
    if licences:
        typer.echo("licences: " + ", ".join(item["skuPartNumber"] or item["skuId"]
                                            for item in licences))


def _echo_memberships(memberships: dict[str, list[dict[str, Any]]]) -> None:
    for kind, items in memberships.items():
        if kind == "roleAssignments":
            typer.echo(f"role assignments: {len(items)}")
            for item in items:
                typer.echo(f"  {item['roleDefinitionId']}{_named(item['roleName'])} "
                           f"scope {item['directoryScopeId']}")
            continue
        typer.echo(f"member of {kind}: {len(items)}")
        for item in items:
            typer.echo(f"  {item['id']}{_named(item['displayName'])}")


def _date(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option} {value!r} is not a date (2026-01-31 or "
                         "2026-01-31T12:00:00)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def search(
    name: str = typer.Argument(..., help="The tenant's name."),
    query: str = typer.Argument("", help="Text in display name, UPN, mail or appId."),
    type_name: str | None = typer.Option(None, "--type", help="Only this object type."),
    from_: str | None = typer.Option(
        None, "--from", help="Changed (or deleted) at or after this date-time (ISO 8601)."),
    to: str | None = typer.Option(
        None, "--to", help="Changed (or deleted) at or before this date-time (ISO 8601)."),
    deleted_only: bool = typer.Option(False, "--deleted-only", help="Only deleted objects."),
    prefix: bool = typer.Option(False, "--prefix", help="Match at the start, not anywhere."),
    limit: int = typer.Option(100, min=1, max=10000, help="At most this many versions."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Object versions across every snapshot of the tenant."""
    space = workspace()
    space.tenant(name)
    browse.check_type(type_name)
    with space.open_catalog() as catalog:
        rows = catalog.search(query, mode="prefix" if prefix else "substring", tenant=name,
                              type=type_name, from_=_date(from_, "--from"),
                              to=_date(to, "--to"), deleted_only=deleted_only, limit=limit)
    found = [version_json(row) for row in rows]
    if json_output:
        print_json(found)
        return
    if not found:
        typer.echo(f"No match for {query!r}." if query else "No match.")
        return
    for row in found:
        label = row["userPrincipalName"] or row["mail"] or row["appId"] or ""
        typer.echo(f"{row['type']:<26} {row['id']:<38} {row['displayName'] or ''} {label}"
                   f"  [{row['first_snapshot'][:8]}..{(row['last_snapshot'] or 'now')[:8]}]"
                   + ("  DELETED" if row["deleted"] else ""))
