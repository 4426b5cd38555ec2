"""``copy``: every snapshot into the repository of another home, re-encrypted under its keys."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from entra_backup.bootstrap import Workspace
from entra_backup.cli.context import print_json, warn, workspace
from entra_backup.cli.render import plural
from entra_backup.config import PASSPHRASE_VARIABLE
from entra_backup.domain.errors import UsageError
from entra_backup.services.copy import CopiedSnapshot, copy_repository


def copy(
    to_home: Path = typer.Option(..., "--to-home", help="The home of the destination "
                                 "repository (made with 'init', e.g. under a new key)."),
    to_passphrase_env: str | None = typer.Option(
        None, help="Environment variable holding the destination's passphrase (default: "
        "the source's)."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Copy every snapshot into another home's repository, re-encrypted under its keys.

    Snapshots keep their tenant, time and how each type ended; they get new ids (printed
    with --json). Run it against a repository made with 'init' under a new master key to
    replace the key (docs/repository-format.md, section 3); a copy that stopped resumes
    where it stopped. The tenants the destination home lacks are registered in it.
    """
    space = workspace()
    target = _destination(space, to_home, to_passphrase_env)
    source, destination = space.open_repository(), target.open_repository()

    def report(item: CopiedSnapshot) -> None:
        if not json_output and not item.existed:
            typer.echo(f"{item.source.short_id} -> {item.copy.short_id}  {item.source.tenant}"
                       f"  {item.source.time.isoformat()}")

    copied = copy_repository(source, destination, report)
    registered = _register_tenants(space, target)
    if json_output:
        print_json({"source": source.id, "destination": destination.id,
                    "snapshots": [item.as_json() for item in copied],
                    "tenants_registered": registered})
        return
    fresh = sum(not item.existed for item in copied)
    typer.echo(f"Copied {plural(fresh, 'snapshot')} ({len(copied) - fresh} there already) "
               f"to repository {destination.id[:8]}; tenants registered there: "
               f"{', '.join(registered) or 'none'}.")


def _destination(space: Workspace, home: Path, passphrase_env: str | None) -> Workspace:
    if home.expanduser().resolve() == space.home.expanduser().resolve():
        raise UsageError("--to-home is this home: give the home of the destination")
    environ = dict(os.environ)
    if passphrase_env is not None:
        if not os.environ.get(passphrase_env):
            raise UsageError(f"the environment variable {passphrase_env} "
                             "(--to-passphrase-env) is not set or empty")
        environ[PASSPHRASE_VARIABLE] = os.environ[passphrase_env]
    target = Workspace(home.expanduser(), environ=environ, warn=warn)
    target.secure_home()
    return target


def _register_tenants(space: Workspace, target: Workspace) -> list[str]:
    """Register in the destination home the tenants it lacks (no secret is stored)."""
    known = target.tenants()
    missing = [record for name, record in sorted(space.tenants().items()) if name not in known]
    for record in missing:
        target.save_tenant(record)
    return [record.name for record in missing]
