"""``init``, ``check`` and ``reindex``: the repository and catalog themselves."""

from __future__ import annotations

from pathlib import Path

import typer

from entra_backup.bootstrap import (
    Workspace,
    catalog_password,
    make_backend,
    object_lock_settings,
    require_object_lock,
)
from entra_backup.catalog import reindex as rebuild
from entra_backup.catalog.engine import parse_url, safe_url
from entra_backup.catalog.engine import probe as probe_catalog
from entra_backup.cli.context import print_json, warn, workspace
from entra_backup.cli.new_passphrase import check_new_passphrase
from entra_backup.cli.render import plural
from entra_backup.config import CONFIG_NAME, KEY_PROVIDERS, AppConfig, write_atomically
from entra_backup.domain.errors import UsageError
from entra_backup.home import create_private_folder
from entra_backup.services.catalog_sync import RepositorySource, damage_note
from entra_backup.services.keys import key_file_exposure
from entra_backup.services.leftovers import stale_scratch
from entra_backup.store.backends.local import check_new_root
from entra_backup.store.check import check as check_repository
from entra_backup.store.errors import CheckFailed
from entra_backup.store.files import CONFIG_NAME as REPOSITORY_CONFIG
from entra_backup.store.keys.base import KeyProviderError
from entra_backup.store.keys.keyfile import KeyFileProvider
from entra_backup.store.keys.master import stored_keys
from entra_backup.store.repository import Repository


def init(
    repo: str | None = typer.Option(None, "--repo", help="Path or s3://bucket/prefix; "
                                    "default: the 'repository' folder of the home."),
    key_provider: str = typer.Option("passphrase", help="passphrase, keyfile or aws-kms."),
    key_file: Path | None = typer.Option(None, help="Key file to create (keyfile provider)."),
    kms_key_id: str | None = typer.Option(None, help="KMS key id, ARN or alias (aws-kms)."),
    s3_endpoint_url: str | None = typer.Option(None, help="S3-compatible endpoint URL."),
    s3_region: str | None = typer.Option(None, help="S3 region."),
    catalog_url: str | None = typer.Option(None, help="Catalog database URL, without a "
                                           "password (default: SQLite in the home)."),
    catalog_password_env: str | None = typer.Option(
        None, help="Environment variable that holds the catalog database's password "
        "(its name is stored, never the password)."),
    object_lock_days: int | None = typer.Option(
        None, help="S3 Object Lock: retain every data, index and snapshot file this many "
        "days (the bucket must have Object Lock enabled)."),
    object_lock_mode: str | None = typer.Option(
        None, help="governance (default; privileged users may lift it) or compliance "
        "(nobody can delete before the date)."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Create the repository (encrypted with a new master key) and the configuration.

    The home pins the repository it creates (its id and key files): a repository swapped
    in at the same location, or a key file added behind the home's back, is refused later
    (see 'entra-backup pin'). For S3, a bucket with Object Lock and --object-lock-days is
    recommended: without it, whoever holds the bucket credentials can delete every
    snapshot (this home notices a deleted snapshot, but cannot bring it back).
    """
    space = workspace()
    if (space.home / CONFIG_NAME).exists():
        raise UsageError(f"{space.home / CONFIG_NAME} exists already: this home is "
                         "initialised (set ENTRA_BACKUP_HOME for another one)")
    if key_provider not in KEY_PROVIDERS:
        raise UsageError(f"--key-provider must be one of {', '.join(KEY_PROVIDERS)}")
    location = repo or str((space.home / "repository").resolve())
    if key_provider == "keyfile":
        key_file = (key_file or space.home / "repository.key").expanduser().resolve()
    if object_lock_days is not None or object_lock_mode is not None:
        object_lock_days, object_lock_mode = object_lock_settings(object_lock_days,
                                                                  object_lock_mode)
    config = AppConfig(location, key_provider, None if key_file is None else str(key_file),
                       kms_key_id, s3_endpoint_url, s3_region, catalog_url,
                       object_lock_days, object_lock_mode,
                       catalog_password_env=catalog_password_env or None)
    if key_provider == "passphrase":
        check_new_passphrase(space.passphrase())
    _probe_catalog(space, catalog_url, catalog_password_env)
    if "://" not in location:
        check_new_root(Path(location).expanduser().resolve(), marker=REPOSITORY_CONFIG)
    backend = make_backend(location, config)
    if object_lock_days is not None:
        require_object_lock(backend, location)
    create_private_folder(space.home)
    if key_provider == "keyfile":
        assert key_file is not None
        try:
            KeyFileProvider.generate(key_file)
        except KeyProviderError as exc:
            raise UsageError(str(exc)) from exc
        exposure = key_file_exposure(key_file, space.home, location)
        if exposure is not None:
            warn(exposure)
    created = space.create_repository(config)
    write_atomically(space.home / CONFIG_NAME, config.to_toml())
    space.pin(created)
    space.open_catalog().close()
    result = {"repository": location, "id": created.id, "key_provider": key_provider,
              "home": str(space.home.resolve()),
              "catalog": safe_url(parse_url(space.catalog_url())),
              "object_lock": None if object_lock_days is None else
              {"days": object_lock_days, "mode": object_lock_mode}}
    if json_output:
        print_json(result)
    else:
        typer.echo(f"Created repository {created.id[:8]} at {location} "
                   f"({key_provider} key).\nNext: entra-backup tenant add NAME ...")


def _probe_catalog(space: Workspace, url: str | None, password_env: str | None) -> None:
    """Refuse a catalog URL holding a password, then connect once before anything is
    created (no half-made home)."""
    if url is None:
        if password_env:
            raise UsageError("--catalog-password-env needs --catalog-url")
        return
    parsed = parse_url(url)
    if parsed.password is not None:
        # Too late to hide it from ps, but not too late to keep it out of config.toml.
        raise UsageError(
            "the catalog URL holds a password, which every user of this machine can read in "
            "the process list (ps) and config.toml would keep in clear; give the URL without "
            "it and the password in an environment variable named by --catalog-password-env "
            "(or libpq's PGPASSWORD or ~/.pgpass)")
    if password_env and parsed.get_backend_name() == "sqlite":
        raise UsageError("--catalog-password-env is for a PostgreSQL catalog; a SQLite "
                         "catalog has no password")
    if password_env:
        parsed = parsed.set(password=catalog_password(space.environ, password_env))
    probe_catalog(parsed)


def pin(json_output: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Accept the repository at the configured location as this home's: its id and key set.

    Needed only after the repository was moved, restored from a copy or re-keyed on
    purpose, which otherwise are refused as a swapped repository or a key slot added
    behind this home's back. The key must open the repository. Check the key files listed
    before relying on it: each of them opens the repository.
    """
    space = workspace()
    before, repo = space.repin()
    after = space.config
    keys = [{"name": key.name, "kind": key.kind, "created": key.created}
            for key in stored_keys(repo.backend)]
    result = {"repository": after.repository, "id": repo.id, "key_set": after.pinned_key_set,
              "previous": {"id": before.pinned_id, "key_set": before.pinned_key_set},
              "changed": (before.pinned_id, before.pinned_key_set)
              != (after.pinned_id, after.pinned_key_set), "keys": keys}
    if json_output:
        print_json(result)
        return
    typer.echo(f"Pinned repository {repo.id[:8]} at {after.repository} with "
               f"{plural(len(keys), 'key file')}"
               + ("." if result["changed"] else " (unchanged)."))
    for key in keys:
        typer.echo(f"  {key['name']}  {key['kind']}  created {key['created']}")


def _missing_seen(repo: Repository) -> list[str]:
    """Snapshots this home has seen that the repository no longer gives back."""
    if repo.seen is None:
        return []
    present, unreadable = repo.snapshot_files()
    return [f"snapshot-missing: {gap.id}: seen by this home ({gap.tenant}, {gap.time}) and "
            f"{gap.reason}" for gap in repo.seen.missing(present, unreadable)]


def reindex(json_output: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Rebuild the catalog from the repository alone."""
    space = workspace()
    source = RepositorySource(space.open_repository())
    with space.open_catalog(catch_up=False) as catalog:
        count = rebuild(catalog, source)
    if json_output:
        print_json({"snapshots": count, "damaged": len(source.damaged),
                    "damaged_objects": source.damaged})
    else:
        typer.echo(f"Catalog rebuilt from {plural(count, 'snapshot')}.")
    if source.damaged:
        warn("the catalog was rebuilt without the objects that cannot be read"
             + damage_note(source.damaged))
        raise typer.Exit(1)


def check(
    read_data: bool = typer.Option(False, "--read-data", help="Read and verify every pack."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Verify the repository's structure (and, with --read-data, every stored byte)."""
    repo = workspace().open_repository()
    report = check_repository(repo, read_data=read_data)
    problems = [f"{p.kind}: {p.item}: {p.message}" for p in report.problems]
    problems += _missing_seen(repo)
    warnings = [f"{p.kind}: {p.item}: {p.message}" for p in report.warnings]
    warnings += [f"scratch-leftover: {folder}: left by a run that died (the next backup or "
                 "restore removes it)" for folder in stale_scratch()]
    affected = [{"snapshot": a.snapshot, "type": a.type_name, "object": a.object_id,
                 "reason": a.reason} for a in report.affected]
    if json_output:
        print_json({"ok": report.ok, "snapshots_checked": report.snapshots_checked,
                    "packs_read": report.packs_read, "problems": problems,
                    "affected": affected, "warnings": warnings})
    else:
        for line in [*problems, *(f"warning: {w}" for w in warnings)]:
            typer.echo(line)
        typer.echo(f"Checked {plural(report.snapshots_checked, 'snapshot')}, read "
                   f"{plural(report.packs_read, 'pack')}: "
                   + ("no problems." if report.ok else f"{plural(len(problems), 'problem')}."))
    if problems:
        raise CheckFailed(f"the repository has {plural(len(problems), 'problem')}: "
                          f"{problems[0]}")
