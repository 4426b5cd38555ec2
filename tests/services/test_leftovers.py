"""Scratch folders of dead runs are found and removed; folders of live runs, and folders
that vanish while being looked at (other runs sharing TMPDIR), are left alone."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from entra_backup.services.leftovers import STALE_AFTER, clean_stale_scratch, stale_scratch


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_dead_and_old_folders_go_live_and_recent_ones_stay(tmp_path: Path) -> None:
    dead = tmp_path / f"entra-backup-spool-{_dead_pid()}-abc"
    live = tmp_path / f"entra-backup-spool-{os.getpid()}-abc"
    legacy = tmp_path / "entra-backup-live-abcdefgh"
    unrelated = tmp_path / "something-else"
    for folder in (dead, live, legacy, unrelated):
        folder.mkdir()
        (folder / "spool.db").write_bytes(b"x")
    later = time.time() + STALE_AFTER + 1

    assert stale_scratch(tmp_path) == [dead]
    assert clean_stale_scratch(tmp_path, clock=lambda: later) == [legacy, dead]
    assert sorted(tmp_path.iterdir()) == sorted([live, unrelated])


def test_a_folder_removed_by_its_own_run_meanwhile_is_skipped(tmp_path: Path) -> None:
    vanishing = tmp_path / "entra-backup-spool-abcdefgh"
    vanishing.mkdir()

    def clock() -> float:
        shutil.rmtree(vanishing)  # its run finishes between the listing and the look
        return time.time() + STALE_AFTER + 1

    assert stale_scratch(tmp_path, clock=clock) == []
