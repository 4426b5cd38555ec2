"""``verify-export``: check an export ZIP's files and its signature."""

from __future__ import annotations

from pathlib import Path

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from entra_backup.cli.context import print_json, workspace
from entra_backup.cli.render import plural
from entra_backup.domain.errors import UsageError
from entra_backup.services.export_format import ExportNotVerified, load_public_key
from entra_backup.services.export_verify import ExportReport, verify_archive


def verify_export(
    file: Path = typer.Argument(..., help="The export ZIP to check."),
    public_key: Path | None = typer.Option(None, "--public-key",
                                           help="PEM file of the signer's public key."),
    repository: bool = typer.Option(False, "--repository",
                                    help="Check against this repository's own key."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Check an export ZIP: every file's hash, and the manifest's signature.

    Verified means every listed file is present and intact, nothing else was added, and
    the manifest is signed by the key given with --public-key (or by this repository's,
    with --repository). Anything less exits with code 19.
    """
    key = _key(public_key, repository)
    report = verify_archive(file, key)
    if json_output:
        print_json(report.to_json())
    else:
        _render(report)
    if not report.verified:
        reasons = report.reasons()
        more = f" (and {plural(len(reasons) - 1, 'other problem')})" if len(reasons) > 1 else ""
        raise ExportNotVerified(f"{file} is not verified: {reasons[0]}{more}")


def _key(public_key: Path | None, repository: bool) -> Ed25519PublicKey | None:
    if public_key is not None and repository:
        raise UsageError("give --public-key or --repository, not both")
    if repository:
        return workspace().open_repository().keys.export_signing_key().public_key()
    if public_key is None:
        return None
    try:
        return load_public_key(public_key.read_bytes())
    except OSError as exc:
        raise UsageError(f"cannot read the public key {public_key}: {exc.strerror}") from exc
    except ValueError as exc:
        raise UsageError(f"{public_key} is not an Ed25519 public key in PEM") from exc


def _render(report: ExportReport) -> None:
    header = report.to_json()
    typer.echo(f"Export of tenant {header['tenant']}, snapshot {str(header['snapshot'])[:8]}, "
               f"repository {header['repository'] or 'not named (format version 1)'}.")
    typer.echo(f"Signature: {report.signature} ({report.signature_detail}).")
    typer.echo(f"Files: {report.members_verified} verified, {len(report.missing)} missing, "
               f"{len(report.extra)} extra, {len(report.altered)} altered.")
    for problem in report.problems:
        typer.echo(f"  {problem}")
    typer.echo("Verified." if report.verified else "NOT verified.")
