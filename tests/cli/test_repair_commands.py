"""``repair index`` and ``unlock`` end to end: a home backed up from the emulator over
HTTPS, then damaged the way a user's storage or a killed job would damage it."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from entra_backup.store.backends.local import LocalBackend
from entra_backup.store.files import pack_name
from entra_backup.store.keys.passphrase import PassphraseKeyProvider
from entra_backup.store.lock import LOCK_PREFIX, RepositoryLock
from entra_backup.store.repository import Repository
from tests.cli.conftest_workspace import (
    PASSPHRASE,
    Cli,
    assert_one_line_error,
    tenant_add_args,
    weak_passphrase_keys,
)
from tests.support.live_emulator import LiveEmulator

TENANT = "contoso"
SECRET_VARIABLE = "REPAIR_SECRET"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveEmulator]:
    with LiveEmulator.running(tmp_path_factory.mktemp("repair-emulator"), users=20, seed=5,
                                  throttle="off") as emulator:
        yield emulator


@pytest.fixture(scope="module", autouse=True)
def _weak_keys() -> Iterator[None]:
    with weak_passphrase_keys():
        yield


@pytest.fixture
def cli(live: LiveEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    """A fresh home with the tenant registered and backed up once."""
    cli = Cli.for_home(tmp_path / "home", {SECRET_VARIABLE: live.client_secret}, capsys)
    for args in (["init"], tenant_add_args(live, TENANT, SECRET_VARIABLE),
                 ["backup", TENANT, "--json"]):
        result = cli.run(*args)
        assert result.code == 0, str(result)
    return cli


def repository(cli: Cli) -> LocalBackend:
    return LocalBackend(cli.home / "repository")


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_lost_index_file_is_named_and_repair_index_brings_every_snapshot_back(
    cli: Cli, tmp_path: Path
) -> None:
    index_files = sorted((cli.home / "repository" / "index").iterdir(),
                         key=lambda path: path.stat().st_mtime_ns)
    index_files[0].unlink()

    for args in (["backup", TENANT, "--full", "--json"], ["reindex", "--json"],
                 ["export", TENANT, "-o", str(tmp_path / "lost.zip"), "--json"]):
        assert_one_line_error(cli.run(*args), 22, contains=("entra-backup repair index",))

    dry = cli.json("repair", "index", "--dry-run")
    assert dry["blobs_missing_from_index"] > 0 and dry["index_files_written"] == []
    assert sorted(path.name for path in (cli.home / "repository" / "index").iterdir()) == \
        sorted(path.name for path in index_files[1:])

    done = cli.json("repair", "index")
    assert done["blobs_missing_from_index"] == dry["blobs_missing_from_index"]
    assert done["damaged_packs"] == [] and done["packs_read"] > 0
    assert cli.json("check", "--read-data")["ok"] is True
    assert cli.run("backup", TENANT, "--full", "--json").code == 0
    assert cli.json("export", TENANT, "-o", str(tmp_path / "back.zip"))
    assert cli.json("reindex")["snapshots"] == 2


def test_a_lock_left_by_a_dead_process_does_not_block_the_next_backup(cli: Cli) -> None:
    RepositoryLock(repository(cli), pid=dead_pid()).acquire()
    result = cli.run("backup", TENANT, "--json")
    assert result.code == 0, str(result)
    assert list(repository(cli).list(LOCK_PREFIX)) == []


def test_unlock_refuses_a_live_holder_and_removes_it_with_force(cli: Cli) -> None:
    RepositoryLock(repository(cli), pid=os.getpid()).acquire()

    assert_one_line_error(cli.run("backup", TENANT), 24, contains=("expires in",))
    assert_one_line_error(cli.run("repair", "index"), 24, contains=("entra-backup unlock",))
    assert_one_line_error(cli.run("unlock"), 25, contains=("--force", "second writer"))
    assert len(list(repository(cli).list(LOCK_PREFIX))) == 1

    forced = cli.json("unlock", "--force")
    assert [item["reason"] for item in forced["removed"]] == ["forced"]
    assert cli.run("backup", TENANT, "--json").code == 0


def test_unlock_removes_a_stale_lock_and_its_help_states_the_risk(cli: Cli) -> None:
    RepositoryLock(repository(cli), pid=dead_pid()).acquire()
    assert [item["reason"] for item in cli.json("unlock")["removed"]] == ["stale"]
    assert cli.json("unlock")["removed"] == []
    help_text = cli.run("unlock", "--help").out
    assert "--force" in help_text and "second writer" in " ".join(help_text.split())


def flip_a_user_document(cli: Cli) -> str:
    """Flip one bit inside a user's document blob in the latest snapshot; return its id."""
    repo = Repository.open(repository(cli), PassphraseKeyProvider(PASSPHRASE))
    snapshot = repo.load_snapshot("latest")
    manifest = snapshot.types["users"].manifest
    assert manifest is not None
    object_id, blob_id = next(iter(repo.manifests.entries(manifest)))
    location = repo.index.get(blob_id)
    assert location is not None
    pack = cli.home / "repository" / pack_name(location.pack_id)
    data = bytearray(pack.read_bytes())
    data[location.offset + location.length // 2] ^= 0x01
    pack.chmod(0o600)
    pack.write_bytes(bytes(data))
    return object_id


def test_a_flipped_bit_is_marked_by_check_and_the_next_full_backup_stores_it_again(
    cli: Cli, tmp_path: Path
) -> None:
    backend = repository(cli)
    flip_a_user_document(cli)

    checked = cli.run("check", "--read-data", "--json")
    assert checked.code == 22 and "blob-damaged" in " ".join(checked.json()["problems"])
    assert len(list(backend.list("damaged/"))) == 1
    assert cli.json("repair", "packs", "--dry-run")["blobs_dropped"] == 1
    assert cli.json("repair", "packs")["blobs_dropped"] == 1

    full = cli.run("backup", TENANT, "--full", "--json")
    assert full.code == 0, str(full)
    assert full.json()["new_versions"] >= 1
    assert cli.json("export", TENANT, "-o", str(tmp_path / "healed.zip"))


def test_repair_snapshots_records_the_lost_object_and_snapshots_and_check_say_so(
    cli: Cli,
) -> None:
    object_id = flip_a_user_document(cli)
    assert cli.run("check", "--read-data").code == 22
    cli.json("repair", "packs")
    before = [s["id"] for s in cli.json("snapshots", TENANT)]

    dry = cli.json("repair", "snapshots", "--dry-run")
    assert dry["lost"] == {before[0]: {"users": [object_id]}}
    assert [s["id"] for s in cli.json("snapshots", TENANT)] == before

    done = cli.json("repair", "snapshots")
    new_id = done["rewritten"][before[0]]
    [listed] = cli.json("snapshots", TENANT)
    assert listed["id"] == new_id and listed["lost"] == 1 and listed["partial"] is True
    assert listed["types"]["users"]["lost"] == [object_id]
    checked = cli.json("check")
    assert checked["ok"] is True
    assert any(w.startswith("objects-lost") for w in checked["warnings"])
    assert "1 object(s) were recorded as lost" in cli.run("check").out


def test_check_reports_leftovers_and_a_backup_removes_scratch_folders_of_dead_runs(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    dead = scratch / f"entra-backup-spool-{dead_pid()}-k1ll3d"
    live = scratch / f"entra-backup-live-{os.getpid()}-running"
    old = scratch / "entra-backup-spool-0ld3rv3r"
    fresh = scratch / "entra-backup-live-fr35hn0w"
    for folder in (dead, live, old, fresh):
        folder.mkdir()
        (folder / "spool.db").write_bytes(b"directory data in clear")
    an_hour_ago = time.time() - 3600
    for path in (old / "spool.db", old):
        os.utime(path, (an_hour_ago, an_hour_ago))
    repo_root = cli.home / "repository"
    (repo_root / "data" / "00").mkdir(parents=True, exist_ok=True)
    (repo_root / "data" / "00" / ("0" * 64)).write_bytes(b"an orphan pack")
    (repo_root / "index" / ".tmp-interrupted").write_bytes(b"half an index file")

    checked = cli.json("check")
    assert checked["ok"] is True
    kinds = {line.split(":")[0] for line in checked["warnings"]}
    assert {"pack-unreferenced", "temporary-file", "scratch-leftover"} <= kinds
    leftover = [line for line in checked["warnings"] if line.startswith("scratch-leftover")]
    assert sorted(leftover) == sorted(f"scratch-leftover: {folder}: left by a run that died "
                                      "(the next backup or restore removes it)"
                                      for folder in (dead, old))
    assert "warning: temporary-file: index/.tmp-interrupted" in cli.run("check").out

    assert cli.run("backup", TENANT, "--json").code == 0
    assert sorted(scratch.iterdir()) == sorted([live, fresh])
