"""``restore NAME --snapshot S --verify-only`` and the verification a restore prints,
saves and turns into its exit code, end to end against the emulator."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest

from entra_backup.services.restore.verification import RestoreNotVerified
from tests.cli._restore_cli_support import TENANT, Setting, build_setting, fresh
from tests.cli.conftest_workspace import (
    ERROR,
    Cli,
    assert_one_line_error,
    weak_passphrase_keys,
)


@pytest.fixture(scope="module", autouse=True)
def _weak_keys() -> Iterator[None]:
    with weak_passphrase_keys():
        yield


@pytest.fixture(scope="module")
def setting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setting]:
    made = build_setting(tmp_path_factory.mktemp("restore-verify"))
    try:
        yield made
    finally:
        made.live.stop()


@pytest.fixture
def cli(setting: Setting, capsys: pytest.CaptureFixture[str]) -> Cli:
    return fresh(setting, capsys)


def test_verify_only_names_the_difference_writes_nothing_and_fails(
        cli: Cli, setting: Setting) -> None:
    setting.change_group()
    before = setting.writes()

    result = cli.run("restore", TENANT, "--snapshot", setting.snapshot, "--verify-only",
                     "--json")

    assert result.code == RestoreNotVerified.exit_code, str(result)
    verification = orjson.loads(result.out)["verification"]
    assert verification["ok"] is False
    assert verification["still_different"] == 1
    [difference] = [d for d in verification["differences"] if not d["accepted"]]
    assert (difference["type"], difference["object_id"]) == ("groups", setting.group)
    assert "description" in difference["what"]
    assert verification["objects_equal"] == verification["objects"] - 1
    assert verification["not_compared"]["users"], "stripped properties are listed"
    assert result.err.strip().startswith(ERROR) and "Traceback" not in result.err
    text = cli.run("restore", TENANT, "--snapshot", setting.snapshot, "--verify-only")
    assert text.code == RestoreNotVerified.exit_code, str(text)
    assert text.out.startswith("Verified: ")
    assert f"DIFFERS  groups/{setting.group}" in text.out
    assert setting.writes() == before, "--verify-only writes nothing"
    assert setting.runs() == [], "and leaves no run behind"


def test_a_restore_prints_and_saves_its_verification(cli: Cli, setting: Setting) -> None:
    setting.change_group()

    restored = cli.run("restore", TENANT, "--snapshot", setting.snapshot, "--yes", "--json")

    assert restored.code == 0, str(restored)
    verification = restored.json()["verification"]
    assert verification["ok"] is True and verification["percent"] == 100.0
    assert verification["still_different"] == 0
    saved = cli.json("restore-report", TENANT)
    assert saved["verification"] == verification
    report = cli.run("restore-report", TENANT)
    assert "Verified: " in report.out, report.out
    again = cli.run("restore", TENANT, "--snapshot", setting.snapshot, "--verify-only")
    assert again.code == 0, str(again)
    assert "0 still different" in again.out
    setting.change_group()
    text = cli.run("restore", TENANT, "--snapshot", setting.snapshot, "--yes")
    assert text.code == 0, str(text)
    assert "Verified: " in text.out and "0 still different" in text.out, text.out


def test_verify_only_refuses_dry_run_and_plan(cli: Cli, setting: Setting) -> None:
    for extra in (["--dry-run"], ["--plan", "plan.json"]):
        result = cli.run("restore", TENANT, "--snapshot", setting.snapshot, "--verify-only",
                         *extra)
        assert_one_line_error(result, 2, contains=("--verify-only",))
