"""The catalog never blocks and never lies: a damaged catalog file, a damaged object in the
repository, a catalog left behind by a killed run, a truncated snapshot file.

Each test works on a private copy of a home holding two backups of the emulator's tenant,
through the real CLI, repository and SQLite catalog.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from entra_backup.store.backends.local import LocalBackend
from entra_backup.store.blob import BlobKind
from entra_backup.store.errors import MissingBlob
from entra_backup.store.files import SNAPSHOT_PREFIX, pack_name
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
    with LiveEmulator.running(tmp_path_factory.mktemp("catrel-emulator"), users=12,
                                  seed=7, throttle="off") as emulator:
        yield emulator


@pytest.fixture(scope="module", autouse=True)
def _weak_keys() -> Iterator[None]:
    with weak_passphrase_keys():
        yield


@dataclass(frozen=True)
class Prepared:
    home: Path
    snapshots: list[str]
    """Oldest first."""


def _rename_a_user(live: LiveEmulator, name: str) -> str:
    """Give a cloud-only user a new display name; its id."""
    return patch_a_cloud_user(live, {"displayName": name})


@pytest.fixture(scope="module")
def prepared(live: LiveEmulator, tmp_path_factory: pytest.TempPathFactory) -> Prepared:
    home = tmp_path_factory.mktemp("catrel-home") / "home"
    cli = Cli.for_home(home, {SECRET_VARIABLE: live.client_secret})
    assert cli.run("init", "--repo", str(home / "repository")).code == 0
    added = cli.run(*tenant_add_args(live, TENANT, SECRET_VARIABLE))
    assert added.code == 0, str(added)
    ids = [cli.json("backup", TENANT)["snapshot"]]
    _rename_a_user(live, "Prepared Second Name")
    ids.append(cli.json("backup", TENANT)["snapshot"])
    return Prepared(home, ids)


@pytest.fixture
def cli(prepared: Prepared, live: LiveEmulator, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> Cli:
    """A private copy of the prepared home (its config names the copy's repository)."""
    home = tmp_path / "home"
    shutil.copytree(prepared.home, home)
    config = home / "config.toml"
    config.write_text(config.read_text().replace(str(prepared.home), str(home)))
    return Cli.for_home(home, {SECRET_VARIABLE: live.client_secret}, capsys)


def _junk_catalog(cli: Cli) -> bytes:
    junk = b"this is not a database at all " * 200
    for suffix in ("-wal", "-shm"):
        (cli.home / f"catalog.db{suffix}").unlink(missing_ok=True)
    (cli.home / "catalog.db").write_bytes(junk)
    return junk


def _broken_files(cli: Cli) -> list[Path]:
    return sorted(cli.home.glob("catalog.db.broken-*"))


def _search(cli: Cli, query: str) -> list[dict[str, Any]]:
    found = cli.json("search", TENANT, query)
    assert isinstance(found, list)
    return found


def _snapshot_ids(cli: Cli) -> list[str]:
    return [item["id"] for item in cli.json("snapshots", TENANT)]


def test_a_corrupt_catalog_does_not_block_a_backup(cli: Cli, prepared: Prepared) -> None:
    junk = _junk_catalog(cli)
    result = cli.run("backup", TENANT, "--json")
    assert result.code == 0, str(result)
    assert len(result.err_lines) == 1, str(result)
    assert result.err_lines[0].startswith(WARNING)
    assert "damaged" in result.err_lines[0] and "rebuil" in result.err_lines[0]
    new_id = result.json()["snapshot"]
    assert _snapshot_ids(cli) == [*prepared.snapshots, new_id]
    [broken] = _broken_files(cli)
    assert broken.read_bytes() == junk, "the damaged file is kept, not deleted"
    assert any(row["displayName"] == "Prepared Second Name"
               for row in _search(cli, "Prepared Second"))


def test_reindex_moves_a_corrupt_catalog_aside_and_rebuilds(cli: Cli,
                                                            prepared: Prepared) -> None:
    _junk_catalog(cli)
    result = cli.run("reindex", "--json")
    assert result.code == 0, str(result)
    assert result.json()["snapshots"] == len(prepared.snapshots)
    assert result.json()["damaged"] == 0
    assert "moved it aside to catalog.db.broken-" in result.err, str(result)
    assert len(_broken_files(cli)) == 1
    assert _search(cli, "Prepared Second"), "search answers from the rebuilt catalog"


def _open_repository(cli: Cli) -> Repository:
    return Repository.open(LocalBackend(cli.home / "repository"),
                           PassphraseKeyProvider(PASSPHRASE))


def _damage_a_user(cli: Cli, snapshot_id: str) -> str:
    """Flip one byte in the middle of a user's stored document; the user's id."""
    repo = _open_repository(cli)
    snapshot = repo.load_snapshot(snapshot_id)
    object_id = next(iter(repo.object_ids(snapshot, "users")))
    manifest = snapshot.types["users"].manifest
    assert manifest is not None
    blob_id = repo.manifests.lookup(manifest, object_id)
    assert blob_id is not None
    location = repo.reader.locate(BlobKind.DOCUMENT, blob_id)
    pack = cli.home / "repository" / pack_name(location.pack_id)
    data = bytearray(pack.read_bytes())
    data[location.offset + location.length // 2] ^= 0x40
    pack.write_bytes(bytes(data))
    return object_id


def test_reindex_skips_a_damaged_object_and_keeps_the_rest(cli: Cli,
                                                           prepared: Prepared) -> None:
    damaged = _damage_a_user(cli, prepared.snapshots[-1])
    result = cli.run("reindex", "--json")
    assert result.code == 1, str(result)
    report = result.json()
    assert report["snapshots"] == len(prepared.snapshots)
    assert report["damaged"] >= 1
    assert all(damaged in item for item in report["damaged_objects"]), report
    assert len(result.err_lines) == 1 and damaged in result.err_lines[0], str(result)
    users = {row["id"] for row in cli.json("search", TENANT, "--type", "users")}
    every_user = set(_open_repository(cli).object_ids(
        _open_repository(cli).load_snapshot(prepared.snapshots[-1]), "users"))
    # Every other user is still found (the damaged one too if an older snapshot holds a
    # readable version of it).
    assert every_user - {damaged} <= users
    # The unread user is not taken for a deleted one.
    assert not _search_deleted(cli)


def _search_deleted(cli: Cli) -> list[dict[str, Any]]:
    found = cli.json("search", TENANT, "--deleted-only")
    assert isinstance(found, list)
    return found


def test_a_search_catches_up_with_a_snapshot_the_catalog_missed(
        cli: Cli, live: LiveEmulator) -> None:
    # The catalog as it was before the backup: what a kill between the repository's commit
    # and the catalog's recording leaves behind.
    saved = cli.home.parent / "saved"
    saved.mkdir()
    for item in cli.home.glob("catalog.db*"):
        shutil.copy2(item, saved / item.name)
    _rename_a_user(live, "Caught Up Person")
    new_id = cli.json("backup", TENANT)["snapshot"]
    for item in cli.home.glob("catalog.db*"):
        item.unlink()
    for item in saved.iterdir():
        shutil.copy2(item, cli.home / item.name)

    result = cli.run("search", TENANT, "Caught Up", "--json")
    assert result.code == 0, str(result)
    assert [row["displayName"] for row in result.json()] == ["Caught Up Person"]
    assert result.json()[0]["first_snapshot"] == new_id
    assert len(result.err_lines) == 1 and "behind" in result.err_lines[0], str(result)
    assert cli.json("search", TENANT, "Caught Up"), "caught up once, silent afterwards"


def test_a_truncated_newest_snapshot_is_named_not_hidden(cli: Cli, prepared: Prepared,
                                                         tmp_path: Path) -> None:
    newest = cli.home / "repository" / f"{SNAPSHOT_PREFIX}{prepared.snapshots[-1]}"
    newest.write_bytes(newest.read_bytes()[:40])

    # This home saw that snapshot: it is refused as a rollback until the loss is accepted
    # (tests/cli/test_repository_pin.py), then named on every listing.
    refused = cli.run("snapshots", TENANT, "--json")
    assert refused.code == 31, str(refused)
    assert prepared.snapshots[-1][:8] in refused.err
    listed = cli.run("--accept-missing-snapshots", "snapshots", TENANT, "--json")
    assert listed.code == 0, str(listed)
    assert [item["id"] for item in listed.json()] == prepared.snapshots[:-1]
    named = [line for line in listed.err_lines if prepared.snapshots[-1] in line]
    assert named and all(line.startswith(WARNING) for line in listed.err_lines), str(listed)
    assert any("check" in line for line in named), str(listed)

    exported = cli.run("export", TENANT, "--snapshot", "latest", "-o",
                       str(tmp_path / "latest.zip"), "--json")
    assert exported.code == 0, str(exported)
    assert len(exported.err_lines) == 1, str(exported)
    assert prepared.snapshots[-1] in exported.err_lines[0]
    assert "'latest'" in exported.err_lines[0] and "newest" in exported.err_lines[0]


def test_repository_damage_met_while_recording_does_not_fail_the_backup(
        cli: Cli, prepared: Prepared, monkeypatch: pytest.MonkeyPatch) -> None:
    # What the catalog step raises when the rebuild it needs meets a lost index file.
    def lost(*_args: object, **_kwargs: object) -> str:
        raise MissingBlob("document blob 1234abcd is not in the index")

    monkeypatch.setattr("entra_backup.services.catalog_sync.record", lost)
    result = cli.run("backup", TENANT, "--json")
    assert result.code == 1, str(result)
    summary = result.json()
    assert summary["catalog"].startswith("failed: document blob 1234abcd")
    assert _snapshot_ids(cli) == [*prepared.snapshots, summary["snapshot"]]
    assert len(result.err_lines) == 1 and "reindex" in result.err_lines[0], str(result)


def test_a_catalog_that_cannot_catch_up_answers_and_says_it_is_behind(
        cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    # What catching up raises when the snapshot it must record sits in a lost pack.
    def lost(*_args: object, **_kwargs: object) -> str:
        raise MissingBlob("document blob 1234abcd is not in the index")

    monkeypatch.setattr("entra_backup.services.catalog_sync.catch_up", lost)
    result = cli.run("search", TENANT, "Prepared Second", "--json")
    assert result.code == 0, str(result)
    assert [row["displayName"] for row in result.json()] == ["Prepared Second Name"]
    assert len(result.err_lines) == 1, str(result)
    assert "behind" in result.err_lines[0] and "1234abcd" in result.err_lines[0]
