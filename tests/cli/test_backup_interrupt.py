"""Ctrl+C during a backup: one line naming the intact previous snapshot, exit 130, and a
repository exactly as before (the same snapshots, ``check`` clean).

The backup runs as a real process (SIGINT is delivered to a process, and the reaction to
it is the event loop's and the CLI's, which an in-process call would not show) against an
emulator slowed down so that the run is still reading when the signal arrives.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from entra_backup.config import HOME_VARIABLE, PASSPHRASE_VARIABLE
from tests.cli.conftest_workspace import ERROR, PASSPHRASE, tenant_add_args
from tests.support.live_emulator import LiveEmulator
from tests.support.processes import interruptible_cli

TENANT = "northwind"
SECRET_VARIABLE = "NORTHWIND_BACKUP_SECRET"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveEmulator]:
    with LiveEmulator.running(tmp_path_factory.mktemp("interrupt-emulator"), users=40,
                                  seed=3, throttle="off") as emulator:
        yield emulator


def _env(live: LiveEmulator, home: Path) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "COLUMNS": "100",
            HOME_VARIABLE: str(home), PASSPHRASE_VARIABLE: PASSPHRASE,
            SECRET_VARIABLE: live.client_secret}


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "entra_backup.cli.main", *args], env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def _graph_calls(live: LiveEmulator) -> int:
    return len(live.control("GET", "/log"))


@pytest.mark.slow
def test_ctrl_c_during_a_backup_prints_one_line_and_leaves_the_last_snapshot(
        live: LiveEmulator, tmp_path: Path) -> None:
    env = _env(live, tmp_path / "home")
    for args in (["init"], tenant_add_args(live, TENANT, SECRET_VARIABLE)):
        assert _cli(env, *args).returncode == 0
    first = _cli(env, "backup", TENANT, "--json")
    assert first.returncode == 0, first.stderr
    before = json.loads(_cli(env, "snapshots", TENANT, "--json").stdout)
    # Slow enough that the run is still reading when the signal lands, even when a loaded
    # machine delays the polling below (at 400 ms a backup once finished first).
    live.control("POST", "/settings", {"latency_ms": 1500})
    try:
        calls = _graph_calls(live)
        process = subprocess.Popen(
            interruptible_cli("backup", TENANT, "--full"),
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        # Interrupt once the backup is reading from Graph (past sign-in and start-up).
        while _graph_calls(live) < calls + 4 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert process.poll() is None, "the backup ended before it could be interrupted"
        process.send_signal(signal.SIGINT)
        try:
            out, err = process.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise
    finally:
        live.control("POST", "/settings", {"latency_ms": 0})
    (previous,) = before
    assert process.returncode == 130, (out, err)
    assert "Traceback" not in err
    assert err.strip().splitlines() == [
        f"{ERROR}interrupted: no snapshot written; the previous snapshot "
        f"{previous['short_id']} ({_shown(previous['time'])}) is intact"], err
    after = json.loads(_cli(env, "snapshots", TENANT, "--json").stdout)
    assert after == before
    check = _cli(env, "check", "--json")
    assert check.returncode == 0, check.stderr
    assert json.loads(check.stdout)["ok"] is True
    # The lock was released: the next backup runs, by delta from the intact snapshot.
    again = _cli(env, "backup", TENANT, "--json")
    assert again.returncode == 0, again.stderr


def _shown(iso_time: str) -> str:
    return f"{datetime.fromisoformat(iso_time):%Y-%m-%d %H:%M:%S %Z}".strip()
