"""``restore`` shows its plan and asks before it writes, end to end against the emulator
over HTTPS: refused without a terminal unless ``--yes`` (nothing written, no run folder),
asked on a real pseudo-terminal (no: nothing written; yes: restored), the same for a
saved plan; the dry run names ``--default-password-env`` when the plan re-creates users
and the real run without it leaves nothing behind; a saved plan executes the
Conditional Access state it was made with.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from entra_backup.domain.restore.plan import Action, RestorePlan
from entra_backup.services.restore.execute import item_keys
from entra_backup.services.restore.journal import FINISHED, Journal, JournalEntry
from entra_backup.services.restore.report import DONE
from entra_backup.services.restore.runs import start_run
from tests.cli._restore_cli_support import (
    PASSWORD_VARIABLE,
    POLICY_NAME,
    TENANT,
    Setting,
    build_setting,
    fresh,
    terminal_typing,
)
from tests.cli.conftest_workspace import Cli, assert_one_line_error, weak_passphrase_keys

NEEDS_CONFIRMATION = 17
DECLINED = 18


@pytest.fixture(scope="module", autouse=True)
def _weak_keys() -> Iterator[None]:
    with weak_passphrase_keys():
        yield


@pytest.fixture(scope="module")
def setting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setting]:
    made = build_setting(tmp_path_factory.mktemp("restore-asks"))
    try:
        yield made
    finally:
        made.live.stop()


@pytest.fixture
def cli(setting: Setting, capsys: pytest.CaptureFixture[str]) -> Cli:
    return fresh(setting, capsys)


def _restore(setting: Setting, *extra: str) -> list[str]:
    return ["restore", TENANT, "--snapshot", setting.snapshot, "--type", "groups", *extra]


def _save_plan(cli: Cli, setting: Setting, path: Path, *extra: str) -> Path:
    saved = cli.run(*_restore(setting, "--dry-run", "--json", *extra))
    assert saved.code == 0, str(saved)
    path.write_text(saved.out)
    return path


# --- without a terminal ------------------------------------------------------------------


@pytest.mark.parametrize("extra", [(), ("--json",), ("--remove-new",), ("--plan",)])
def test_without_a_terminal_a_restore_needs_yes_and_leaves_nothing(
        cli: Cli, setting: Setting, tmp_path: Path, extra: tuple[str, ...]) -> None:
    setting.change_group()
    args = _restore(setting, *extra)
    if extra == ("--plan",):
        plan = _save_plan(cli, setting, tmp_path / "plan.json")
        args = ["restore", TENANT, "--snapshot", setting.snapshot, "--plan", str(plan)]
    before = setting.writes()

    refused = cli.run(*args)

    assert_one_line_error(refused, NEEDS_CONFIRMATION, contains=("--yes", "not a terminal"))
    assert setting.writes() == before
    assert setting.runs() == [], "no run folder, so no unfinished restore"
    assert setting.group_description() == "Changed after backup"
    # The dry run never asks; --yes (or -y) restores.
    assert cli.run(*_restore(setting, "--dry-run")).code == 0
    done = cli.run(*args, "-y")
    assert done.code == 0, str(done)
    assert setting.group_description() != "Changed after backup"
    assert len(setting.runs()) == 1


# --- on a terminal -----------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["n", "", "whatever"])
def test_on_a_terminal_anything_but_yes_writes_nothing(
        cli: Cli, setting: Setting, answer: str) -> None:
    setting.change_group()
    before = setting.writes()

    with terminal_typing(answer):
        declined = cli.run(*_restore(setting))

    assert declined.code == DECLINED, str(declined)
    assert "Plan to restore fabrikam" in declined.out
    assert "groups" in declined.out and "1 directory writes" in declined.out
    assert "Proceed with 1 writes to tenant fabrikam? [y/N]" in declined.err
    assert declined.err.rstrip().endswith("restore cancelled at the prompt; nothing was "
                                          "written"), declined.err
    assert setting.writes() == before
    assert setting.runs() == []


def test_on_a_terminal_yes_restores_and_names_the_report_command(
        cli: Cli, setting: Setting) -> None:
    setting.change_group()
    with terminal_typing("y"):
        done = cli.run(*_restore(setting))
    assert done.code == 0, str(done)
    assert "Proceed with 1 writes to tenant fabrikam? [y/N]" in done.err
    assert setting.group_description() != "Changed after backup"
    [run] = setting.runs()
    assert done.out.rstrip().splitlines()[-1] == \
        f"Report: entra-backup restore-report {TENANT} {run}"


def test_on_a_terminal_json_asks_on_stderr_and_prints_one_document(
        cli: Cli, setting: Setting) -> None:
    setting.change_group()
    with terminal_typing("yes"):
        done = cli.run(*_restore(setting, "--json"))
    assert done.code == 0, str(done)
    assert "Proceed with 1 writes" in done.err and "Plan to restore" in done.err
    report = done.json()
    assert report["counts"]["done"] == 1
    assert report["report_command"] == f"entra-backup restore-report {TENANT} {report['run']}"


def test_a_saved_plan_shows_its_summary_and_asks(
        cli: Cli, setting: Setting, tmp_path: Path) -> None:
    setting.change_group()
    plan = _save_plan(cli, setting, tmp_path / "plan.json")
    args = ["restore", TENANT, "--snapshot", setting.snapshot, "--plan", str(plan)]
    with terminal_typing("n"):
        declined = cli.run(*args)
    assert declined.code == DECLINED, str(declined)
    assert "1 directory writes" in declined.out and "Proceed with 1 writes" in declined.err
    assert setting.runs() == []
    with terminal_typing("y"):
        done = cli.run(*args)
    assert done.code == 0, str(done)
    assert setting.group_description() != "Changed after backup"


def test_removals_are_counted_in_the_summary(cli: Cli, setting: Setting) -> None:
    graph = setting.graph()
    try:
        graph.call("POST", "groups", {"displayName": "Added after the backup",
                                      "mailEnabled": False, "mailNickname": "added-after",
                                      "securityEnabled": True}, expect=201)
    finally:
        graph.close()
    with terminal_typing("n"):
        declined = cli.run(*_restore(setting, "--remove-new"))
    assert declined.code == DECLINED, str(declined)
    assert "Removes 1 objects and 0 relationships created after the snapshot." \
        in declined.out


# --- the default password ----------------------------------------------------------------


def test_the_dry_run_names_the_password_option_and_the_real_run_leaves_nothing(
        cli: Cli, setting: Setting) -> None:
    setting.delete_user_for_good()
    users = ["restore", TENANT, "--snapshot", setting.snapshot, "--type", "users"]
    text = cli.run(*users, "--dry-run")
    assert text.code == 0, str(text)
    assert "re-creates 1 users: the real run needs --default-password-env" in text.out
    given = cli.run(*users, "--dry-run", "--default-password-env", PASSWORD_VARIABLE)
    assert "--default-password-env" not in given.out
    planned = cli.run(*users, "--dry-run", "--json")
    assert planned.json()["needs_default_password"] is True
    before = setting.writes()

    refused = cli.run(*users, "--yes")

    assert_one_line_error(refused, 2, contains=("--default-password-env", "nothing was written"))
    assert setting.writes() == before
    assert setting.runs() == [], "no run folder, journal or unfinished restore"
    done = cli.run(*users, "--yes", "--default-password-env", PASSWORD_VARIABLE)
    assert done.code == 0, str(done)
    assert "Continuing the unfinished restore" not in done.err
    assert len(setting.runs()) == 1
    assert "1 objects were re-created with new ids; the report gives each old id -> new id." \
        in done.out


def test_a_resumed_run_asks_for_what_is_left(cli: Cli, setting: Setting) -> None:
    """A run stopped after re-creating the user: the next attempt continues it, needs no
    password any more, and asks for the writes left, not the whole plan's."""
    setting.delete_user_for_good()
    users = ["restore", TENANT, "--snapshot", setting.snapshot, "--type", "users"]
    planned = cli.run(*users, "--dry-run", "--json")
    assert planned.code == 0, str(planned)
    plan = RestorePlan.from_json(planned.json())
    ordered = plan.ordered()
    [(key, item)] = [(k, i) for k, i in zip(item_keys(ordered), ordered, strict=True)
                     if i.action is Action.RECREATE]
    keys = setting.keys()
    run = start_run(setting.workspace.home, plan, keys)
    journal = Journal.open(run.journal, {"tenant": plan.tenant, "snapshot": plan.snapshot,
                                         "plan_created_at": plan.created_at}, run.seal(keys))
    journal.record(JournalEntry(key, FINISHED, DONE, new_id="stopped-run-new-id"))
    journal.close()
    left = sum(i.writes for i in plan.items if i.action is not Action.SKIP) - item.writes
    before = setting.writes()

    with terminal_typing("n"):
        declined = cli.run(*users)

    assert declined.code == DECLINED, str(declined)
    assert f"Continuing the unfinished restore {run.id}" in declined.err
    assert f"Proceed with {left} writes to tenant fabrikam?" in declined.err
    assert setting.writes() == before
    assert setting.runs() == [run.id]


# --- the Conditional Access state of a saved plan ----------------------------------------


@pytest.mark.parametrize(("made_with", "expected"), [
    ("as-backed-up", "enabled"),
    ("report-only", "enabledForReportingButNotEnforced"),
])
def test_a_saved_plan_executes_the_ca_state_it_was_made_with(
        cli: Cli, setting: Setting, tmp_path: Path, made_with: str, expected: str) -> None:
    setting.delete_policy()
    plan = tmp_path / "plan.json"
    saved = cli.run("restore", TENANT, "--snapshot", setting.snapshot, "--type",
                    "conditionalAccessPolicies", "--ca-state", made_with, "--dry-run", "--json")
    assert saved.code == 0, str(saved)
    plan.write_text(saved.out)
    assert orjson.loads(plan.read_bytes())["options"]["ca_state"] == made_with
    args = ["restore", TENANT, "--snapshot", setting.snapshot, "--plan", str(plan), "--yes"]
    other = "report-only" if made_with == "as-backed-up" else "as-backed-up"
    before = setting.writes()
    assert_one_line_error(cli.run(*args, "--ca-state", other), 2,
                          contains=(f"--ca-state {made_with}",))
    assert setting.writes() == before

    done = cli.run(*args)

    assert done.code == 0, str(done)
    [policy] = setting.policies_named(POLICY_NAME)
    assert policy["state"] == expected
