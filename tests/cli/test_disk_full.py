"""A full disk during a backup: one line naming the folder and the space, the disk-full
exit code, nothing half-written; with space again, ``check`` is clean and the next backup
succeeds.

Each test mounts a small tmpfs (root only; skipped with the reason otherwise), puts one
of the three places a backup writes on it (the repository, the home with the catalog,
``TMPDIR`` with the spools), then fills it with a file leaving a few kilobytes, and runs
a real backup of the emulator. Deleting the filler gives the space back.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from entra_backup.domain.errors import DiskFull
from entra_backup.services.backup import temp_space
from tests.cli.conftest_workspace import (
    ERROR,
    WARNING,
    Cli,
    Result,
    tenant_add_args,
    weak_passphrase_keys,
)
from tests.support.live_emulator import LiveEmulator

TENANT = "fabrikam"
SECRET_VARIABLE = "FABRIKAM_BACKUP_SECRET"
FULL = DiskFull.exit_code


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveEmulator]:
    with LiveEmulator.running(tmp_path_factory.mktemp("disk-full-emulator"), users=200,
                                  seed=7, throttle="off") as emulator:
        yield emulator


@pytest.fixture(scope="module", autouse=True)
def _weak_keys() -> Iterator[None]:
    with weak_passphrase_keys():
        yield


@contextmanager
def small_disk(folder: Path, size: str = "16m") -> Iterator[Path]:
    """A tmpfs mounted on ``folder`` for the block, unmounted after it."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs",
                              str(folder)], capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(disk: Path, leave: int) -> Path:
    """A file taking all of ``disk``'s free space but ``leave`` bytes; delete it to free."""
    filler = disk / "filler"
    free = shutil.disk_usage(disk).free
    filler.touch(mode=0o600)  # private, like the home it may sit in (else it is tightened)
    with filler.open("wb") as handle:
        handle.write(b"\0" * max(0, free - leave))
    return filler


def assert_disk_full(result: Result, folder: Path) -> str:
    """The contract: exit code, one line on stderr naming the folder, no traceback."""
    assert result.code == FULL, str(result)
    assert "Traceback" not in result.err, str(result)
    assert len(result.err_lines) == 1, str(result)
    line = result.err_lines[0]
    assert line.startswith((ERROR, WARNING)), line
    assert f"not enough space in {folder}" in line, line
    assert "free" in line, line
    return line


def set_up(live: LiveEmulator, home: Path, *init: str) -> Cli:
    cli = Cli.for_home(home, {SECRET_VARIABLE: live.client_secret})
    assert cli.run("init", *init).code == 0
    assert cli.run(*tenant_add_args(live, TENANT, SECRET_VARIABLE)).code == 0
    return cli


def assert_recovers(cli: Cli, filler: Path) -> None:
    """With the space back: the repository checks clean and a backup succeeds."""
    filler.unlink()
    check = cli.run("check", "--json")
    assert check.code == 0, str(check)
    assert check.json()["ok"] is True, str(check)
    again = cli.run("backup", TENANT, "--json")
    assert again.code == 0, str(again)
    assert again.json()["partial"] is False
    snapshots = cli.json("snapshots", TENANT)
    assert snapshots[-1]["id"] == again.json()["snapshot"]


@pytest.mark.slow
def test_a_full_repository_folder_is_one_line_and_writes_no_snapshot(
        live: LiveEmulator, tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk") as disk:
        repo = disk / "repository"
        cli = set_up(live, tmp_path / "home", "--repo", str(repo))
        filler = fill(disk, leave=64 * 1024)
        result = cli.run("backup", TENANT, "--json")
        line = assert_disk_full(result, repo)
        assert "to the repository needs" in line, line
        assert cli.json("snapshots", TENANT) == []
        assert not list(repo.rglob(".tmp-*")), "a half-written file was left"
        assert_recovers(cli, filler)


@pytest.mark.slow
def test_a_tmpdir_filling_up_mid_run_is_one_line_and_names_tmpdir(
        live: LiveEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cli = set_up(live, tmp_path / "home")
    with small_disk(tmp_path / "tmp") as disk:
        # tempfile reads TMPDIR once per process: point the cached value at the disk too.
        monkeypatch.setattr(tempfile, "tempdir", str(disk))
        # As if another program filled the disk after the check before the start passed.
        monkeypatch.setattr(temp_space, "FLOOR", 20_000)
        filler = fill(disk, leave=64 * 1024)
        result = cli.with_env(TMPDIR=str(disk)).run("backup", TENANT, "--json")
        line = assert_disk_full(result, disk)
        # The spool names TMPDIR; the engine adds the space a backup needs there.
        assert "(TMPDIR): " in line and "the backup's temporary" in line, line
        assert "needs 20.0 kB" in line, line
        assert cli.json("snapshots", TENANT) == []
        assert_recovers(cli, filler)
        assert not [p for p in disk.iterdir() if p.name.startswith("entra-backup-")]


@pytest.mark.slow
def test_a_tmpdir_too_small_for_the_tenant_is_refused_before_reading(
        live: LiveEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cli = set_up(live, tmp_path / "home")
    first = cli.run("backup", TENANT, "--json")
    assert first.code == 0, str(first)
    objects = first.json()["objects"]
    # The test tenant is small: a lower floor lets its own estimate decide.
    monkeypatch.setattr(temp_space, "FLOOR", 100_000)
    estimate = objects * temp_space.BYTES_PER_OBJECT
    with small_disk(tmp_path / "tmp") as disk:
        monkeypatch.setattr(tempfile, "tempdir", str(disk))
        # Room for a delta run (more than the floor) but not for a full read of the tenant.
        filler = fill(disk, leave=estimate // 2)
        assert shutil.disk_usage(disk).free < estimate
        calls = len(live.control("GET", "/log"))
        refused = cli.run("backup", TENANT, "--full", "--json")
        line = assert_disk_full(refused, disk)
        assert f"a full backup of {objects:,} objects needs" in line, line
        assert len(live.control("GET", "/log")) == calls, "Graph was read before refusing"
        delta = cli.run("backup", TENANT, "--json")
        assert delta.code == 0, str(delta)
        (warning,) = delta.err_lines
        assert warning.startswith(WARNING) and "may run out" in warning, warning
        filler.unlink()
        assert cli.run("backup", TENANT, "--full", "--json").code == 0


@pytest.mark.slow
def test_a_full_home_fails_the_catalog_with_the_disk_full_code(live: LiveEmulator,
                                                               tmp_path: Path) -> None:
    with small_disk(tmp_path / "home") as home:
        cli = set_up(live, home, "--repo", str(tmp_path / "repository"))
        filler = fill(home, leave=8 * 1024)
        result = cli.run("backup", TENANT, "--json")
        line = assert_disk_full(result, home)
        assert "catalog" in line, line
        assert_recovers(cli, filler)
        # The next backup brought the catalog up to date: it finds the tenant's users.
        found = cli.json("search", TENANT, "a")
        assert found, "the catalog holds nothing after the next backup"


@pytest.mark.slow
def test_a_catalog_filling_up_after_the_commit_keeps_the_snapshot_and_exits_29(
        live: LiveEmulator, tmp_path: Path) -> None:
    with small_disk(tmp_path / "home") as home:
        cli = set_up(live, home, "--repo", str(tmp_path / "repository"))
        # Room to open the catalog, not to record the tenant's versions in it.
        filler = fill(home, leave=160 * 1024)
        result = cli.run("backup", TENANT, "--json")
        line = assert_disk_full(result, home)
        assert line.startswith(WARNING) and "catalog was not updated" in line, line
        stored = result.json()["snapshot"]
        assert [s["id"] for s in cli.json("snapshots", TENANT)] == [stored]
        assert_recovers(cli, filler)


def test_a_full_home_when_registering_a_tenant_is_one_line(live: LiveEmulator,
                                                            tmp_path: Path) -> None:
    with small_disk(tmp_path / "home") as home:
        cli = Cli.for_home(home, {SECRET_VARIABLE: live.client_secret})
        assert cli.run("init", "--repo", str(tmp_path / "repository")).code == 0
        before = (home / "tenants.json").read_bytes() if (home / "tenants.json").exists() \
            else None
        filler = fill(home, leave=0)
        result = cli.run(*tenant_add_args(live, TENANT, SECRET_VARIABLE))
        assert_disk_full(result, home)
        after = (home / "tenants.json").read_bytes() if (home / "tenants.json").exists() \
            else None
        assert after == before, "the tenant registry was changed"
        filler.unlink()
        assert cli.run(*tenant_add_args(live, TENANT, SECRET_VARIABLE)).code == 0
