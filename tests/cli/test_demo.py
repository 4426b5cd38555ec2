"""``entra-backup demo`` (what ``make demo`` runs): serves a tenant and says how to use it."""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.processes import interruptible_cli


@pytest.mark.slow
def test_demo_backs_up_twice_shows_the_changes_and_serves(tmp_path: Path) -> None:
    process = subprocess.Popen(
        interruptible_cli("demo", "--users", "40", "--home", str(tmp_path)),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={"COLUMNS": "80", "PATH": "/usr/bin:/bin"},
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if line.startswith("Serving until Ctrl+C"):
                break
        suggested = _try_the_suggested_commands(lines)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            # Generous: stopping the emulator took over 30 s on a saturated 2-core machine.
            remaining, stderr = process.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()  # never leave it running past the test
            process.communicate()
            raise
    info = json.loads(lines[0])
    text = "".join(lines)
    assert process.returncode == 0, stderr
    assert "users" in text and " 40 " in text.replace("│", " ")
    token_line = next(line for line in lines if "TOKEN=$(curl" in line)
    assert f"client_id={info['client_id']}" in token_line
    assert info["authority"] + "/oauth2/v2.0/token" in token_line
    assert (tmp_path / "emulator" / "ca.pem").is_file()
    # The incremental backup read users by delta and stored the three user changes.
    assert "Second backup (incremental, by delta)" in text
    assert "jobTitle: " in text and "'Incident Commander'" in text
    assert "users: 1 added, 1 removed, 1 modified" in text
    assert "groups: 0 added, 0 removed, 1 modified" in text
    assert (tmp_path / "entra-backup" / "config.toml").is_file()
    # The dry run plans to undo the deletion and the attribute change; without
    # --remove-new it leaves the new user and membership alone.
    plan = text.split("What a restore to the first snapshot would do")[1].split(
        "Explore the backups")[0].replace("│", " ")
    rows = [" ".join(line.split()) for line in plan.splitlines()]
    assert "users undelete 1 1" in rows and "users update 1 1" in rows
    assert not any(row.startswith(("groups", "users remove")) for row in rows)
    assert "differs from the snapshot: jobTitle" in plan
    assert f"export ENTRA_BACKUP_HOME={tmp_path / 'entra-backup'}" in text
    assert "Emulator stopped." in remaining
    # The backup summaries fit the 80-column terminal, the longest type name whole.
    rows = [line.rstrip("\n") for line in lines
            if line.startswith("conditionalAccessPolicies ")]
    assert len(rows) == 2 and all(len(row) <= 80 for row in rows), rows
    # The suggested commands name the real snapshots and a real object, and work.
    assert "FIRST_SNAPSHOT_ID" not in text
    first, second = (snapshot["short_id"] for snapshot in suggested["snapshots"])
    assert f"restore demo --snapshot {first} --dry-run" in text
    assert f"diff demo {first} {second}" in text
    assert suggested["show"]["properties"]["jobTitle"] == "Incident Commander"
    assert ". .venv/bin/activate" in text


def _try_the_suggested_commands(lines: list[str]) -> dict[str, Any]:
    """Run the printed ``snapshots`` and ``show`` commands with the printed exports."""
    env = {"PATH": "/usr/bin:/bin"}
    results: dict[str, Any] = {}
    for line in lines:
        words = shlex.split(line)
        if words[:1] == ["export"]:
            name, value = words[1].split("=", 1)
            env[name] = value
        elif words[:1] == [".venv/bin/entra-backup"] and words[1] in ("snapshots", "show"):
            done = subprocess.run([sys.executable, "-m", "entra_backup.cli.main", *words[1:],
                                   "--json"], env=env, capture_output=True, text=True,
                                  timeout=60, check=False)
            assert done.returncode == 0, (line, done.stderr)
            results[words[1]] = json.loads(done.stdout)
    return results
