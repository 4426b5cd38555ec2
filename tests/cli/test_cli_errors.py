"""Invalid input to the CLI: one line on stderr, a non-zero exit code, no traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "entra_backup.cli.main", *args],
        capture_output=True, text=True, timeout=60, check=False,
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["emulator", "serve", "--port", "70000"], "--port must be between 0 and 65535"),
        (["emulator", "serve", "--port", "http"], "Invalid value for '--port'"),
        (["emulator", "serve", "--users", "0"], "--users must be between 1 and"),
        (["emulator", "serve", "--users", "-5"], "--users must be between 1 and"),
        (["emulator", "serve", "--fault-rate", "1.5"], "--fault-rate must be between 0 and 1"),
        (["emulator", "serve", "--throttle", "sometimes"], "--throttle must be 'off' or 'real'"),
        (["emulator", "serve", "--latency-ms", "-1"], "--latency-ms must be between 0"),
        (["emulator", "serve", "--host", "0.0.0.0"], "--host must be a loopback address"),
        (["emulator", "serve", "--host", "example.org"], "--host must be a loopback address"),
        (["emulator", "serve", "--colour", "blue"], "No such option: --colour"),
        (["emulator", "launch"], "No such command 'launch'"),
        (["frobnicate"], "No such command 'frobnicate'"),
    ],
)
def test_bad_input_gets_one_line_and_nonzero_exit(args: list[str], expected: str) -> None:
    result = run_cli(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("entra-backup: error: ")
    assert expected in lines[0]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_version_prints_and_succeeds() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == "0.1.0"
