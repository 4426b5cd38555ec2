"""A saved plan (``restore --dry-run --json > plan.json``) executes only as it was made.

An edited plan, one without its MAC or one sealed under another repository's key is
refused with exit 27 before anything is written and before any run folder exists; a plan
that writes a type without recording its live state is refused with exit 28, one holding
a malformed id with exit 37 before any request; and a
``--plan`` restore killed part way continues with the same command (the tenant changed by
what the run itself did, which must not block it).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from entra_backup.cli import restore_cmd
from entra_backup.domain.restore.authentic import seal_plan
from entra_backup.domain.restore.plan import PlanItem, RestorePlan
from entra_backup.services.restore.execute import execute_plan
from entra_backup.services.restore.runs import start_run
from tests.cli._restore_cli_support import (
    PASSWORD_VARIABLE,
    TENANT,
    Setting,
    build_setting,
    fresh,
)
from tests.cli.conftest_workspace import Cli, assert_one_line_error, weak_passphrase_keys

NOT_AUTHENTIC = 27
WITHOUT_LIVE_STATE = 28
MALFORMED_ID = 37


@pytest.fixture(scope="module", autouse=True)
def _weak_keys() -> Iterator[None]:
    with weak_passphrase_keys():
        yield


@pytest.fixture(scope="module")
def setting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setting]:
    made = build_setting(tmp_path_factory.mktemp("restore-plan-tamper"))
    try:
        yield made
    finally:
        made.live.stop()


@pytest.fixture
def cli(setting: Setting, capsys: pytest.CaptureFixture[str]) -> Cli:
    return fresh(setting, capsys)


def _saved_plan(cli: Cli, setting: Setting, path: Path, *types: str) -> dict[str, Any]:
    """``restore --dry-run --json`` saved to ``path``; its JSON."""
    chosen = [arg for name in types for arg in ("--type", name)]
    planned = cli.run("restore", TENANT, "--snapshot", setting.snapshot, *chosen,
                      "--dry-run", "--json")
    assert planned.code == 0, str(planned)
    path.write_text(planned.out, encoding="utf-8")
    value = planned.json()
    assert isinstance(value, dict)
    return value


def _execute(cli: Cli, setting: Setting, path: Path) -> Any:
    return cli.run("restore", TENANT, "--snapshot", setting.snapshot, "--plan", str(path),
                   "--default-password-env", PASSWORD_VARIABLE, "--yes", "--json")


def _write(path: Path, value: dict[str, Any]) -> None:
    path.write_bytes(orjson.dumps(value))


def test_a_plan_whose_update_was_turned_into_a_remove_is_refused(
        cli: Cli, setting: Setting, tmp_path: Path) -> None:
    setting.change_group()
    path = tmp_path / "plan.json"
    value = _saved_plan(cli, setting, path, "groups")
    [update] = [i for i in value["items"] if i["action"] == "update"]
    update["action"] = "remove"
    _write(path, value)
    before = setting.writes()

    result = _execute(cli, setting, path)

    assert_one_line_error(result, NOT_AUTHENTIC)
    assert "changed after it was made, or made for another repository" in result.err
    assert setting.writes() == before
    assert setting.group_description() == "Changed after backup", "nothing was written"
    assert setting.runs() == [], "no run folder"


def test_a_plan_with_its_live_id_changed_is_refused(
        cli: Cli, setting: Setting, tmp_path: Path) -> None:
    setting.change_group()
    path = tmp_path / "plan.json"
    value = _saved_plan(cli, setting, path, "groups")
    [update] = [i for i in value["items"] if i["action"] == "update"]
    update["live_id"] = "00000000-0000-0000-0000-000000000001"
    _write(path, value)

    assert_one_line_error(_execute(cli, setting, path), NOT_AUTHENTIC)
    assert setting.runs() == []


def test_a_plan_without_a_mac_or_sealed_by_another_key_is_refused(
        cli: Cli, setting: Setting, tmp_path: Path) -> None:
    setting.change_group()
    path = tmp_path / "plan.json"
    value = _saved_plan(cli, setting, path, "groups")
    unsealed = {k: v for k, v in value.items() if k != "mac"}
    _write(path, unsealed)
    missing = _execute(cli, setting, path)
    assert_one_line_error(missing, NOT_AUTHENTIC)
    assert "has no MAC" in missing.err

    other = seal_plan(unsealed, lambda data: hmac.new(b"another repository", data,
                                                      hashlib.sha256).digest())
    _write(path, other)
    assert_one_line_error(_execute(cli, setting, path), NOT_AUTHENTIC)
    assert setting.group_description() == "Changed after backup"
    assert setting.runs() == []


def test_the_saved_plan_as_made_runs(cli: Cli, setting: Setting, tmp_path: Path) -> None:
    setting.change_group()
    path = tmp_path / "plan.json"
    _saved_plan(cli, setting, path, "groups")

    result = _execute(cli, setting, path)

    assert result.code == 0, str(result)
    assert setting.group_description() != "Changed after backup"


def test_a_plan_that_writes_a_type_without_its_live_state_is_refused(
        cli: Cli, setting: Setting, tmp_path: Path) -> None:
    """Sealed with the right key (as a plan of an older planner would be), but nothing
    would notice that the tenant changed since: refused."""
    setting.change_group()
    path = tmp_path / "plan.json"
    value = _saved_plan(cli, setting, path, "groups")
    value["live_state"] = {}
    _write(path, seal_plan(value, setting.keys().plan_mac))
    before = setting.writes()

    result = _execute(cli, setting, path)

    assert_one_line_error(result, WITHOUT_LIVE_STATE)
    assert "groups" in result.err
    assert setting.writes() == before
    assert setting.runs() == []


def test_a_sealed_plan_with_a_malformed_id_is_refused_before_any_request(
        cli: Cli, setting: Setting, tmp_path: Path) -> None:
    """Sealed with the right key, but an id that would add query options to the PATCH:
    refused whole with one line naming the id and where it is, before any request."""
    setting.change_group()
    path = tmp_path / "plan.json"
    value = _saved_plan(cli, setting, path, "groups")
    [number] = [n for n, i in enumerate(value["items"], start=1) if i["action"] == "update"]
    value["items"][number - 1]["live_id"] = "x?$select=a"
    _write(path, seal_plan(value, setting.keys().plan_mac))
    before = len(setting.live.control("GET", "/log"))

    result = _execute(cli, setting, path)

    assert_one_line_error(result, MALFORMED_ID)
    assert f"malformed groups id 'x?$select=a' in {path}, item {number} (update groups, " \
        "live_id): expected a GUID" in result.err
    assert len(setting.live.control("GET", "/log")) == before, "no request at all"
    assert setting.group_description() == "Changed after backup"
    assert setting.runs() == []


class Killed(Exception):
    """Raised from the progress callback: the process dies after some steps."""


def test_a_killed_plan_restore_resumes_with_the_same_command(
        cli: Cli, setting: Setting, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    setting.delete_user_for_good()
    setting.change_group()
    path = tmp_path / "plan.json"
    value = _saved_plan(cli, setting, path, "users", "groups")
    steps = [i for i in value["items"] if i["action"] != "skip"]
    assert [i["action"] for i in steps][:1] == ["recreate"] and len(steps) >= 2
    real = execute_plan

    async def killed_after_one(*args: Any, **kwargs: Any) -> Any:
        def progress(item: PlanItem, outcome: str) -> None:
            if item.action.value != "skip":
                raise Killed
        return await real(*args, **{**kwargs, "progress": progress})

    with monkeypatch.context() as patch:
        patch.setattr(restore_cmd, "execute_plan", killed_after_one)
        with pytest.raises(Killed):
            _execute(cli, setting, path)
    assert len(setting.runs()) == 1

    resumed = _execute(cli, setting, path)

    assert resumed.code == 0, str(resumed)
    assert "Continuing the unfinished restore" in resumed.err
    report = resumed.json()
    assert report["run"] == setting.runs()[0], "the same run, continued"
    assert any(i["resumed"] for i in report["items"])
    graph = setting.graph()
    try:
        upn = graph.get(f"users/{report['id_map'][setting.user]}")["userPrincipalName"]
        same = [u for u in graph.iterate("users", {"$select": "id,userPrincipalName"})
                if u["userPrincipalName"] == upn]
    finally:
        graph.close()
    assert len(same) == 1, "the user was not created twice"
    assert setting.group_description() != "Changed after backup"


def test_an_edited_journal_line_is_named_in_a_warning_and_ignored(
        cli: Cli, setting: Setting) -> None:
    setting.delete_user_for_good()
    users = ["restore", TENANT, "--snapshot", setting.snapshot, "--type", "users"]
    done = cli.run(*users, "--default-password-env", PASSWORD_VARIABLE, "--yes", "--json")
    assert done.code == 0, str(done)
    [run] = setting.runs()
    journal = setting.workspace.home / "restores" / run / "journal.jsonl"
    lines = journal.read_bytes().splitlines()
    [number] = [n for n, line in enumerate(lines, start=1) if b'"new_id"' in line]
    value = orjson.loads(lines[number - 1])
    value["new_id"] = "00000000-0000-0000-0000-00000000beef"
    lines[number - 1] = orjson.dumps(value)
    journal.write_bytes(b"\n".join(lines) + b"\n")

    planned = cli.run(*users, "--dry-run", "--json")

    assert planned.code == 0, str(planned)
    assert planned.err_lines == [
        f"entra-backup: warning: line {number} of the journal of restore run {run} does "
        "not authenticate (changed, or not written by this repository's restores); "
        "ignored"]
    assert "00000000-0000-0000-0000-00000000beef" not in planned.json()["matched"].values()


def test_an_unfinished_run_whose_plan_was_edited_is_not_continued(
        cli: Cli, setting: Setting) -> None:
    setting.change_group()
    groups = ["restore", TENANT, "--snapshot", setting.snapshot, "--type", "groups"]
    planned = cli.run(*groups, "--dry-run", "--json")
    assert planned.code == 0, str(planned)
    run = start_run(setting.workspace.home, RestorePlan.from_json(planned.json()),
                    setting.keys())
    saved = orjson.loads((run.directory / "plan.json").read_bytes())
    [update] = [i for i in saved["items"] if i["action"] == "update"]
    update["action"] = "remove"
    (run.directory / "plan.json").write_bytes(orjson.dumps(saved))
    before = setting.writes()

    result = cli.run(*groups, "--yes", "--json")

    assert_one_line_error(result, NOT_AUTHENTIC)
    assert f"restores/{run.id}" in result.err
    assert setting.writes() == before
    assert setting.group_description() == "Changed after backup"
