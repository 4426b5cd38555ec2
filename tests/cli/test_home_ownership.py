"""A home someone else owns, or other users may write, is refused: they could have
replaced its configuration, key file or pin before this user ran a command."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from entra_backup.cli.main import main
from entra_backup.domain.errors import UnusablePath


def _home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    (home / "config.toml").write_text('repository = "repository"\n', encoding="utf-8")
    return home


def _one_line(capsys: pytest.CaptureFixture[str], *words: str) -> None:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("entra-backup: error:"), err
    for word in words:
        assert word in err[0], err


def test_a_home_others_may_write_is_refused(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    home = _home(tmp_path)
    home.chmod(0o777)
    assert main(["--home", str(home), "tenant", "list"]) == UnusablePath.exit_code
    _one_line(capsys, "may be written by other users", "chmod 700")
    assert home.stat().st_mode & 0o777 == 0o777  # refused, not silently "fixed"


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a folder to another user needs root")
def test_a_home_another_user_owns_is_refused(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    home = _home(tmp_path)
    os.chown(home, 54321, -1)
    assert main(["--home", str(home), "tenant", "list"]) == UnusablePath.exit_code
    _one_line(capsys, "belongs to user id 54321")


def test_a_private_home_of_ones_own_is_used(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    home = _home(tmp_path)
    assert main(["--home", str(home), "tenant", "list"]) == 0
    assert "No tenants registered yet" in capsys.readouterr().out
