"""``diff`` and ``export``: comparing snapshots, and taking data out as plain Graph JSON."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import typer

from entra_backup.cli.browse_cmd import AT_HELP
from entra_backup.cli.context import print_json, workspace
from entra_backup.cli.render import plural
from entra_backup.domain.errors import UsageError
from entra_backup.graph.client import GraphClient
from entra_backup.services import browse, compare
from entra_backup.services.export import export_snapshot


def diff(
    name: str = typer.Argument(..., help="The tenant's name."),
    snapshot_a: str = typer.Argument(
        ..., help="The earlier snapshot: id, prefix, 'latest' or a date-time."),
    snapshot_b: str | None = typer.Argument(
        None, help="The later snapshot (id, prefix, 'latest' or a date-time), or 'live'."),
    object_id: str | None = typer.Option(None, "--object", help="Only this object."),
    type_name: str | None = typer.Option(None, "--type", help="Only this object type."),
    only_changes: bool = typer.Option(False, "--only-changes",
                                      help="Show differences only, not the documents."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """What changed between two snapshots, or between a snapshot and the live tenant.

    With --object and no second snapshot: the versions of the object that differ from
    the one in SNAPSHOT_A (the snapshots worth comparing it with).
    """
    space = workspace()
    record = space.tenant(name)
    browse.check_type(type_name)
    repo = space.open_repository()
    before = browse.resolve_snapshot(repo, name, snapshot_a)
    with space.open_catalog() as catalog:
        if snapshot_b is None:
            if object_id is None:
                raise UsageError("give a second snapshot (or 'live'), or --object ID")
            versions = compare.comparable_versions(catalog, name, object_id, before)
            _render({"object": object_id, "differing_versions": versions}, json_output)
            return
        if snapshot_b == "live":
            async def live() -> compare.TenantDiff:
                async with GraphClient.connect(space.connection(record)) as client:
                    return await compare.diff_live(client, repo, before, object_id,
                                                   type_name, catalog=catalog)
            result = asyncio.run(live()).to_json()
        else:
            after = browse.resolve_snapshot(repo, name, snapshot_b)
            if object_id is not None:
                one = compare.diff_object(repo, before, after, object_id)
                result = {"before": before.id, "after": after.id, "objects": [one.to_json()],
                          "names": compare.name_edges(catalog, [one], [after.id, before.id])}
                if not only_changes:
                    result["documents"] = compare.documents_of(repo, before, after, object_id)
            else:
                result = compare.diff_snapshots(repo, catalog, before, after,
                                                type_name).to_json()
    _render(result, json_output)


def _render(result: dict[str, Any], json_output: bool) -> None:
    if json_output:
        print_json(result)
        return
    if "differing_versions" in result:
        if not result["differing_versions"]:
            typer.echo(f"No other version of object {result['object']} differs from this one.")
        for row in result["differing_versions"]:
            typer.echo(f"{row['version']}  in {row['first_snapshot'][:8]}.."
                       f"{(row['last_snapshot'] or 'now')[:8]}")
        return
    if not any(item["status"] != "unchanged" for item in result["objects"]):
        typer.echo(_no_differences(result))
        return
    for type_name, counts in result.get("counts", {}).items():
        if any(counts.values()):
            typer.echo(f"{type_name}: {counts['added']} added, {counts['removed']} removed, "
                       f"{counts['modified']} modified")
    names = result.get("names", {})
    for item in result["objects"]:
        if item["status"] == "unchanged":
            continue
        typer.echo(f"{item['status'].upper():<9} {item['type']} {item['id']}")
        if item["status"] != "modified":
            continue
        for change in item["attributes"]:
            typer.echo(f"    {change['name']}: {change['before']!r} -> {change['after']!r}")
        for change in item["relationships"]:
            _echo_edges(change, names)


def _echo_edges(change: dict[str, Any], names: dict[str, str | None]) -> None:
    """One line per changed edge, the other object's name beside its id."""
    def line(sign: str, edge: dict[str, Any]) -> str:
        name = names.get(edge.get("id") or "")
        return f"    {change['name']} {sign} {edge.get('id')}" + (f" ({name})" if name else "")
    for edge in change["added"]:
        typer.echo(line("+", edge))
    for edge in change["removed"]:
        typer.echo(line("-", edge))
    for pair in change["changed"]:
        typer.echo(line("~", pair["after"]))


def _no_differences(result: dict[str, Any]) -> str:
    """The one line an empty diff prints, naming both sides."""
    after = result["after"]
    other = "the live tenant" if after == "live" else f"snapshot {after[:8]}"
    return f"No differences between snapshot {result['before'][:8]} and {other}."


def export(
    name: str = typer.Argument(..., help="The tenant's name."),
    output: Path = typer.Option(..., "-o", "--output", help="The ZIP file to write."),
    snapshot: str | None = typer.Option(
        None, help="Snapshot id, prefix, 'latest' or a date-time (default: latest)."),
    at: str | None = typer.Option(None, "--at", help=AT_HELP),
    types: list[str] = typer.Option([], "--type", help="Only these types (repeatable)."),
    objects: list[str] = typer.Option([], "--object", help="Only these ids (repeatable)."),
    no_relationships: bool = typer.Option(False, "--no-relationships",
                                          help="Leave relationships out."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """A ZIP of plain Graph JSON with a manifest of counts and hashes."""
    space = workspace()
    space.tenant(name)
    repo = space.open_repository()
    chosen = browse.resolve_snapshot(repo, name, snapshot if snapshot or at else "latest", at)
    result = export_snapshot(repo, chosen, output, types=types or None,
                             object_ids=objects or None, relationships=not no_relationships)
    if json_output:
        print_json(result.to_json())
    else:
        typer.echo(f"Wrote {plural(result.objects, 'object')} to {result.path} "
                   f"({result.bytes:,} bytes) from snapshot {chosen.short_id}.")
        typer.echo(f"Signed by the repository's export key {result.key_fingerprint[:16]}; "
                   "'entra-backup key export-public' prints it for the recipient.")
