"""``key list|add|remove|passwd`` and ``key export-public``: the repository's keys.

Every change goes through this home (``services.keys``), which re-pins the key set: a key
file added any other way is refused as one slipped in behind the home's back.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from entra_backup.bootstrap import key_errors
from entra_backup.cli.context import print_json, warn, workspace
from entra_backup.cli.new_passphrase import read_new_passphrase
from entra_backup.cli.restore_confirm import ConfirmationNeeded
from entra_backup.domain.errors import UsageError
from entra_backup.services import keys
from entra_backup.services.export_format import key_summary
from entra_backup.services.keys import key_file_exposure

if TYPE_CHECKING:
    from entra_backup.bootstrap import Workspace
    from entra_backup.store.keys.base import KeyProvider

app = typer.Typer(help="The repository's keys.", no_args_is_help=True)

NEW_PASSPHRASE_HELP = ("Environment variable holding the new passphrase (default: type it "
                       "twice on the terminal).")


@app.command("list")
def list_keys(json_output: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Every key file of the repository; * marks the one that opened it in this run."""
    found = keys.list_keys(workspace().open_repository())
    if json_output:
        print_json([key.as_json() for key in found])
        return
    for key in found:
        extra = f"  {key.kms_key_arn}" if key.kms_key_arn else ""
        typer.echo(f"{'*' if key.current else ' '}{key.short_id}  {key.kind:<10}  "
                   f"created {key.created}{extra}")


@app.command("add")
def add(
    key_provider: str = typer.Option("passphrase", help="passphrase, keyfile or aws-kms."),
    key_file: Path | None = typer.Option(None, help="Key file to create (keyfile "
                                         "provider); refused if it exists."),
    kms_key_id: str | None = typer.Option(None, help="KMS key id, ARN or alias (aws-kms)."),
    new_passphrase_env: str | None = typer.Option(None, help=NEW_PASSPHRASE_HELP),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Add a key: wrap the repository's master key with a new passphrase, key file or KMS
    key, and pin the new key set in this home.

    The key this home opens the repository with stays as it is; the new one opens the
    same data (use it from another home, or after 'key remove' of the old one).
    """
    space = workspace()
    repo = space.open_repository()
    provider = _new_provider(space, key_provider, key_file, kms_key_id, new_passphrase_env)
    with key_errors():
        added = keys.add_key(repo, provider, space)
    if json_output:
        print_json(added.as_json())
        return
    typer.echo(f"Added key {added.short_id} ({added.kind}) to repository {repo.id[:8]}.")


@app.command("remove")
def remove(
    name: str = typer.Argument(..., help="The key's id or a unique prefix ('key list')."),
    yes: bool = typer.Option(False, "--yes", help="Remove without asking."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Remove a key file (never the one in use, nor the last), and pin the new key set.

    On a bucket that keeps versions (S3 versioning, Object Lock) the old version of the
    file stays readable until its retention ends: a leaked passphrase still opens it.
    """
    space = workspace()
    repo = space.open_repository()
    removal = keys.plan_removal(repo, name)
    retention = removal.retention_warning()
    if retention is not None:
        warn(retention)
    if not yes:
        _ask(f"Remove key {removal.key.short_id} ({removal.key.kind}, created "
             f"{removal.key.created})? [y/N] ")
    keys.remove_key(repo, removal, space)
    if json_output:
        print_json({"removed": removal.key.as_json(), "old_versions_kept":
                    removal.old_versions_kept})
        return
    typer.echo(f"Removed key {removal.key.short_id} from repository {repo.id[:8]}.")


@app.command("passwd")
def passwd(
    new_passphrase_env: str | None = typer.Option(None, help=NEW_PASSPHRASE_HELP),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Change the passphrase: add a key under the new one, then remove the key that opened.

    Afterwards only the new passphrase opens through this key; set it where this home
    reads its passphrase (ENTRA_BACKUP_PASSPHRASE or --passphrase-file).
    """
    space = workspace()
    repo = space.open_repository()
    provider = space.new_passphrase_key(read_new_passphrase(new_passphrase_env))
    with key_errors():
        added, removal = keys.replace_passphrase(repo, provider, space)
    retention = removal.retention_warning()
    if retention is not None:
        warn(retention)
    if json_output:
        print_json({"added": added.as_json(), "removed": removal.key.as_json(),
                    "old_versions_kept": removal.old_versions_kept})
        return
    typer.echo(f"Changed the passphrase: added key {added.short_id}, removed key "
               f"{removal.key.short_id}. Give this home the new passphrase from now on.")


@app.command("export-public")
def export_public(
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The public key that verifies this repository's exports (PEM and fingerprint).

    Give it to the recipients of exports through a channel other than the export itself;
    'entra-backup verify-export FILE --public-key KEY.pem' checks an export against it.
    """
    repo = workspace().open_repository()
    summary = key_summary(repo.keys.export_signing_key().public_key(), repo.id)
    if json_output:
        print_json(summary)
        return
    typer.echo(summary["pem"], nl=False)
    typer.echo(f"# {summary['algorithm']} export-signing key of repository "
               f"{summary['repository']}")
    typer.echo(f"# fingerprint (SHA-256 of the raw key): {summary['fingerprint']}")


def _new_provider(space: Workspace, kind: str, key_file: Path | None,
                  kms_key_id: str | None, passphrase_env: str | None) -> KeyProvider:
    """The provider of the key to add, from the options ``init`` takes for its key."""
    options = {"keyfile": key_file, "aws-kms": kms_key_id, "passphrase": passphrase_env}
    if kind not in options:
        raise UsageError(f"--key-provider must be one of {', '.join(options)}")
    stray = [flag for flag, owner, value in (
        ("--key-file", "keyfile", key_file), ("--kms-key-id", "aws-kms", kms_key_id),
        ("--new-passphrase-env", "passphrase", passphrase_env))
        if value is not None and owner != kind]
    if stray:
        raise UsageError(f"{stray[0]} does not apply to a {kind} key")
    if kind == "passphrase":
        return space.new_passphrase_key(read_new_passphrase(passphrase_env))
    if options[kind] is None:
        flag = "--key-file" if kind == "keyfile" else "--kms-key-id"
        raise UsageError(f"a {kind} key needs {flag}")
    if key_file is not None:
        key_file = key_file.expanduser().resolve()
        exposure = key_file_exposure(key_file, space.home, space.config.repository)
        if exposure is not None:
            warn(exposure)
    return space.new_key(kind, key_file=key_file, kms_key_id=kms_key_id)


def _ask(question: str) -> None:
    """Ask on the terminal (on stderr, so stdout keeps one JSON document); without one,
    refuse: only --yes may go ahead."""
    if not _stdin_is_terminal():
        raise ConfirmationNeeded("'key remove' asks first, but stdin is not a terminal; "
                                 "add --yes to remove without asking")
    typer.echo(question, nl=False, err=True)
    if sys.stdin.readline().strip().lower() not in ("y", "yes"):
        typer.echo("Nothing was removed.", err=True)
        raise typer.Exit(1)


def _stdin_is_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except ValueError:  # a closed stdin
        return False
