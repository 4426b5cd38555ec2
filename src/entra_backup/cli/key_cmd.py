"""``key export-public``: the repository's keys that may leave it."""

from __future__ import annotations

import typer

from entra_backup.cli.context import print_json, workspace
from entra_backup.services.export_format import key_summary

app = typer.Typer(help="The repository's keys.", no_args_is_help=True)


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
