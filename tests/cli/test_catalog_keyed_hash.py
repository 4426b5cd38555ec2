"""The catalog's version hashes are keyed with the repository's key: its reader cannot
confirm a guessed document by hashing it, and a catalog of the unkeyed kind is rebuilt on
upgrade with the same answers.

Two homes back up the emulator's tenant (the same documents in each one's first
snapshot), through the real CLI, repositories and SQLite catalogs.
"""

from __future__ import annotations

import hashlib
import hmac
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import create_engine

from entra_backup.catalog import Catalog
from entra_backup.catalog.fields import version_hash
from entra_backup.catalog.schema import HEAD_REVISION, alembic_config
from entra_backup.domain.canonical import canonical_bytes
from entra_backup.services import catalog_sync
from entra_backup.store.backends.local import LocalBackend
from entra_backup.store.keys.passphrase import PassphraseKeyProvider
from entra_backup.store.repository import Repository
from tests.cli.conftest_workspace import (
    PASSPHRASE,
    WARNING,
    Cli,
    patch_a_cloud_user,
    tenant_add_args,
    weak_passphrase_keys,
)
from tests.support.live_emulator import LiveEmulator

TENANT = "contoso"
SECRET_VARIABLE = "CONTOSO_BACKUP_SECRET"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveEmulator]:
    with LiveEmulator.running(tmp_path_factory.mktemp("keyed-emulator"), users=8,
                              seed=11, throttle="off") as emulator:
        yield emulator


@pytest.fixture(scope="module", autouse=True)
def _weak_keys() -> Iterator[None]:
    with weak_passphrase_keys():
        yield


@dataclass(frozen=True)
class Homes:
    first: Path
    """Two snapshots, a user renamed between them."""
    second: Path
    """One snapshot, taken when the first home took its first."""
    snapshots: list[str]
    """The first home's, oldest first."""
    renamed: str


def _home(live: LiveEmulator, home: Path) -> Cli:
    cli = Cli.for_home(home, {SECRET_VARIABLE: live.client_secret})
    assert cli.run("init", "--repo", str(home / "repository")).code == 0
    added = cli.run(*tenant_add_args(live, TENANT, SECRET_VARIABLE))
    assert added.code == 0, str(added)
    return cli


@pytest.fixture(scope="module")
def homes(live: LiveEmulator, tmp_path_factory: pytest.TempPathFactory) -> Homes:
    first = _home(live, tmp_path_factory.mktemp("keyed-a") / "home")
    second = _home(live, tmp_path_factory.mktemp("keyed-b") / "home")
    ids = [first.json("backup", TENANT)["snapshot"]]
    second.json("backup", TENANT)
    renamed = patch_a_cloud_user(live, {"displayName": "Keyed Hash Renamed"})
    ids.append(first.json("backup", TENANT)["snapshot"])
    return Homes(first.home, second.home, ids, renamed)


def _repository(home: Path) -> Repository:
    return Repository.open(LocalBackend(home / "repository"), PassphraseKeyProvider(PASSPHRASE))


def _stored_hashes(home: Path, object_id: str) -> list[str]:
    with sqlite3.connect(home / "catalog.db") as connection:
        rows = connection.execute(
            "SELECT version_hash FROM object_versions WHERE object_id = ? ORDER BY first_seq",
            (object_id,)).fetchall()
    return [row[0] for row in rows]


def _first_document(home: Path, object_id: str) -> tuple[Repository, dict[str, Any]]:
    repo = _repository(home)
    snapshot = repo.snapshots(TENANT)[0]
    return repo, dict(repo.get(snapshot, "users", object_id))


def test_a_stored_hash_is_keyed_and_differs_between_repositories(homes: Homes) -> None:
    repo_a, document_a = _first_document(homes.first, homes.renamed)
    repo_b, document_b = _first_document(homes.second, homes.renamed)
    assert document_a == document_b, "both first snapshots hold the same document"
    stored_a = _stored_hashes(homes.first, homes.renamed)[0]
    [stored_b] = _stored_hashes(homes.second, homes.renamed)
    plain = hashlib.sha256(canonical_bytes(document_a)).hexdigest()
    assert plain == version_hash(document_a)
    assert plain not in (stored_a, stored_b), "the catalog must not hold a plain SHA-256"
    assert stored_a != stored_b
    keyed = hmac.new(repo_a.keys.catalog_hash_key, canonical_bytes(document_a),
                     hashlib.sha256).hexdigest()
    assert stored_a == keyed
    assert repo_a.keys.catalog_hash_key != repo_b.keys.catalog_hash_key


def _copy(homes: Homes, live: LiveEmulator, tmp_path: Path) -> Cli:
    home = tmp_path / "home"
    shutil.copytree(homes.first, home)
    config = home / "config.toml"
    config.write_text(config.read_text().replace(str(homes.first), str(home)))
    return Cli.for_home(home, {SECRET_VARIABLE: live.client_secret})


def _old_catalog(cli: Cli) -> str:
    """Replace the home's catalog by one as the previous version made it: revision 0003,
    unkeyed SHA-256 hashes. Its URL."""
    for suffix in ("", "-wal", "-shm"):
        (cli.home / f"catalog.db{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{cli.home / 'catalog.db'}"
    engine = create_engine(url)
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
    engine.dispose()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(catalog_sync, "catalog_hasher", lambda _repo: version_hash)
        source = catalog_sync.RepositorySource(_repository(cli.home))
        # Recorded in place: a rebuild would make a new file at the newest revision.
        with Catalog(create_engine(url)) as old:
            for info in sorted(source.snapshots(), key=lambda info: info.time):
                old.record(info, source.versions(info))
    return url


def _revision(home: Path) -> str:
    with sqlite3.connect(home / "catalog.db") as connection:
        (revision,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    return str(revision)


def _answers(catalog: Catalog, snapshots: list[str]) -> tuple[Any, Any]:
    """Search and diff results with the hashes left out (those change by design)."""
    found = [(row.type, row.object_id, row.first_snapshot, row.last_snapshot,
              row.display_name, row.deleted_at) for row in catalog.search("", limit=1000)]
    changes = sorted((change.type, change.object_id, change.change)
                     for change in catalog.changed_between(*snapshots))
    return found, changes


def _without_versions(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_versions(item) for key, item in value.items()
                if key != "version"}
    if isinstance(value, list):
        return [_without_versions(item) for item in value]
    return value


def test_an_upgraded_catalog_answers_as_before(homes: Homes, live: LiveEmulator,
                                               tmp_path: Path) -> None:
    reference = Cli.for_home(homes.first, {SECRET_VARIABLE: live.client_secret})
    searched = reference.json("search", TENANT, "")
    diffed = reference.json("diff", TENANT, *homes.snapshots, "--only-changes")
    cli = _copy(homes, live, tmp_path)
    url = _old_catalog(cli)
    with Catalog(create_engine(url)) as old:
        before = _answers(old, homes.snapshots)
    assert _stored_hashes(cli.home, homes.renamed)[0] == version_hash(
        _first_document(cli.home, homes.renamed)[1])
    assert _revision(cli.home) == "0003"

    result = cli.run("search", TENANT, "", "--json")
    assert result.code == 0, str(result)
    assert all(line.startswith(WARNING) for line in result.err_lines), str(result)
    assert f"{WARNING}the catalog held none of the repository's 2 snapshots; recorded them " \
        "from the repository" in result.err_lines, str(result)
    assert _without_versions(result.json()) == _without_versions(searched)
    diff_after = cli.run("diff", TENANT, *homes.snapshots, "--only-changes", "--json")
    assert diff_after.code == 0 and diff_after.err == "", str(diff_after)
    assert _without_versions(diff_after.json()) == _without_versions(diffed)
    assert diffed, "the renamed user makes the diff non-empty"

    assert _revision(cli.home) == HEAD_REVISION
    with Catalog.open(url) as upgraded:
        assert _answers(upgraded, homes.snapshots) == before
    assert _stored_hashes(cli.home, homes.renamed) == _stored_hashes(homes.first, homes.renamed)
