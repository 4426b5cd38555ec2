"""What a backup spools under ``TMPDIR`` is ciphertext: names and user principal names
never reach the disk in clear, so a run killed before it could delete its temporary files
leaves nothing readable behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag

from entra_backup.catalog.fields import keyed_version_hasher
from entra_backup.config import HOME_VARIABLE
from entra_backup.services.backup.spool import DeltaSpool
from entra_backup.services.backup.spool_cipher import SpoolCipher
from entra_backup.services.backup.versions import VersionLog
from tests.cli.conftest_workspace import tenant_add_args
from tests.support.live_emulator import LiveEmulator

UPN = "adele.vance@contoso.example"
NAME = "Adele Vance"
SECRET_VARIABLE = "TAILSPIN_BACKUP_SECRET"


def files_under(folder: Path) -> Iterator[Path]:
    return (path for path in folder.rglob("*") if path.is_file())


def in_clear(folder: Path, needles: list[str]) -> list[tuple[str, str]]:
    """(file, text) for every needle found in clear in a file under ``folder``."""
    found = []
    for path in files_under(folder):
        data = path.read_bytes()
        found += [(str(path), text) for text in needles if text.encode() in data]
    return found


# SQLite keeps up to about 2 MB of a spool in its page cache; beyond, pages reach the
# file. The tests write more than that, so a body stored in clear would be on disk.
SPILL = 3000
PAD = "x" * 900


def test_a_spool_keeps_no_name_in_clear_and_reads_back_what_it_was_given(
        tmp_path: Path) -> None:
    user = {"id": "u1", "displayName": NAME, "userPrincipalName": UPN}
    with DeltaSpool(tmp_path) as spool:
        spool.add(user)
        for number in range(SPILL):
            spool.add({"id": f"v{number:05d}", "displayName": f"{NAME} {number}", "pad": PAD})
        assert (spool.folder / "spool.db").stat().st_size > 1_000_000
        # The process id in the name lets a sweep of leftovers spare a running backup.
        assert spool.folder.name.startswith(f"entra-backup-spool-{os.getpid()}-")
        spool.add({"id": "u1", "jobTitle": "Chief Backup Officer"})
        spool.add({"id": "u2", "@removed": {"reason": "deleted"}})
        assert any(path.stat().st_size for path in files_under(tmp_path))
        assert in_clear(tmp_path, [UPN, NAME, "Chief Backup Officer"]) == []
        assert spool.get("u1") == {**user, "jobTitle": "Chief Backup Officer"}
        merged = dict(spool.merged())
        assert merged["u1"] == {**user, "jobTitle": "Chief Backup Officer"}
        assert len(merged) == SPILL + 1
        assert spool.removed() == {"u2": "deleted"}


def test_each_cipher_has_its_own_key_and_binds_a_record_to_its_row() -> None:
    one, two = SpoolCipher(), SpoolCipher()
    sealed = one.seal(NAME.encode(), "u1")
    assert one.open(sealed, "u1") == NAME.encode()
    with pytest.raises(InvalidTag):
        two.open(sealed, "u1")
    with pytest.raises(InvalidTag):
        one.open(sealed, "u2")


def test_the_version_log_keeps_no_searchable_field_in_clear(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    log = VersionLog(keyed_version_hasher(bytes(32)))
    try:
        log.add("users", "u1", {"id": "u1", "displayName": NAME, "userPrincipalName": UPN,
                                "mail": UPN})
        for number in range(SPILL):
            log.add("groups", f"g{number}", {"id": f"g{number}",
                                             "displayName": f"{NAME} {number} {PAD}"})
        assert sum(path.stat().st_size for path in files_under(tmp_path)) > 1_000_000
        assert in_clear(tmp_path, [UPN, NAME]) == []
        (version,) = [v for v in log.versions() if v.type == "users"]
        assert version.document == {"displayName": NAME, "userPrincipalName": UPN,
                                    "mail": UPN}
    finally:
        log.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveEmulator]:
    with LiveEmulator.running(tmp_path_factory.mktemp("spool-emulator"), users=3000,
                                  seed=21, throttle="off") as emulator:
        yield emulator


def _people(live: LiveEmulator) -> list[str]:
    """Every user's UPN and display name, as the tenant holds them."""
    users: list[dict[str, str]] = []
    with live.http() as graph:
        page = graph.get("users", params={"$select": "displayName,userPrincipalName",
                                          "$top": "999"}).json()
        users += page["value"]
        while "@odata.nextLink" in page:
            page = graph.get(page["@odata.nextLink"]).json()
            users += page["value"]
    texts = {u["userPrincipalName"] for u in users} | {u["displayName"] for u in users}
    return sorted(text for text in texts if len(text) >= 6)


def _spooled_bytes(tmp: Path) -> int:
    return max((path.stat().st_size for path in files_under(tmp)
                if path.name == "spool.db" and "spool-" in path.parent.name), default=0)


@pytest.mark.slow
def test_a_backup_killed_mid_run_leaves_no_name_in_clear_under_tmpdir(
        live: LiveEmulator, tmp_path: Path) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TMPDIR": str(tmp),
           HOME_VARIABLE: str(tmp_path / "home"), SECRET_VARIABLE: live.client_secret}

    def cli(*args: str) -> None:
        done = subprocess.run([sys.executable, "-m", "entra_backup.cli.main", *args],
                              env=env, capture_output=True, text=True, timeout=120,
                              check=False)
        assert done.returncode == 0, done.stderr

    # A key file, not a passphrase: no key derivation in each process.
    cli("init", "--key-provider", "keyfile", "--key-file", str(tmp_path / "key"))
    cli(*tenant_add_args(live, "tailspin", SECRET_VARIABLE))
    live.control("POST", "/settings", {"latency_ms": 100})
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "entra_backup.cli.main", "backup", "tailspin", "--json"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        # Kill once a spool has outgrown SQLite's page cache: its pages are on disk.
        while _spooled_bytes(tmp) < 1_000_000 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert process.poll() is None, "the backup ended before it could be killed"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        live.control("POST", "/settings", {"latency_ms": 0})
    assert _spooled_bytes(tmp) >= 1_000_000, "no spool was left behind to inspect"
    people = _people(live)
    assert len(people) > 3000
    assert in_clear(tmp, people) == []
