"""``restore-report NAME [RUN|latest]`` and ``restore-report NAME --list``, end to end
against the emulator: runs found by tenant and id, prefix or ``latest`` (and the older
``restore-report RUN``), the runs listed with their status and counts, and every
re-created object's new id in the text, JSON and CSV reports.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest

from tests.cli._restore_cli_support import (
    PASSWORD_VARIABLE,
    TENANT,
    Setting,
    build_setting,
    fresh,
)
from tests.cli.conftest_workspace import Cli, assert_one_line_error, weak_passphrase_keys


@pytest.fixture(scope="module", autouse=True)
def _weak_keys() -> Iterator[None]:
    with weak_passphrase_keys():
        yield


@pytest.fixture(scope="module")
def setting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setting]:
    made = build_setting(tmp_path_factory.mktemp("restore-report"))
    try:
        yield made
    finally:
        made.live.stop()


@pytest.fixture
def cli(setting: Setting, capsys: pytest.CaptureFixture[str]) -> Cli:
    return fresh(setting, capsys)


def _two_runs(cli: Cli, setting: Setting) -> tuple[dict[str, Any], dict[str, Any]]:
    """A run re-creating the user deleted for good, then one updating a group (without
    relationships: a later plan of the groups alone asks for the re-created user's
    memberships under its old id, which Graph refuses)."""
    setting.delete_user_for_good()
    first = cli.run("restore", TENANT, "--snapshot", setting.snapshot, "--type", "users",
                    "--default-password-env", PASSWORD_VARIABLE, "--yes", "--json")
    assert first.code == 0, str(first)
    setting.change_group()
    second = cli.run("restore", TENANT, "--snapshot", setting.snapshot, "--type", "groups",
                     "--no-relationships", "--yes", "--json")
    assert second.code == 0, str(second)
    return first.json(), second.json()


def test_runs_are_found_by_tenant_and_id_prefix_or_latest(cli: Cli, setting: Setting) -> None:
    first, second = _two_runs(cli, setting)
    assert cli.json("restore-report", TENANT, "latest")["id_map"] == second["id_map"]
    assert cli.json("restore-report", TENANT)["counts"] == second["counts"]
    assert cli.json("restore-report", TENANT, str(first["run"]))["counts"] == first["counts"]
    # The older form, the run alone, still works when it names no tenant.
    assert cli.json("restore-report", str(first["run"])[:22])["counts"] == first["counts"]
    unknown = cli.run("restore-report", TENANT, "2099")
    assert_one_line_error(unknown, 2, contains=("'2099'", "--list"))
    nobody = cli.run("restore-report", "contoso", "latest")
    assert_one_line_error(nobody, 2, contains=("no tenant named 'contoso'",))


def test_the_list_shows_every_run_with_its_status_and_counts(
        cli: Cli, setting: Setting) -> None:
    assert cli.json("restore-report", TENANT, "--list") == {"tenant": TENANT, "runs": []}
    first, second = _two_runs(cli, setting)

    listed = cli.json("restore-report", TENANT, "--list")["runs"]

    assert [r["id"] for r in listed] == [first["run"], second["run"]]
    assert [r["status"] for r in listed] == ["ok", "ok"]
    assert [r["counts"] for r in listed] == [first["counts"], second["counts"]]
    assert all(r["snapshot"] == setting.snapshot and r["tenant"] == TENANT
               and r["started_at"].startswith("20") for r in listed)
    text = cli.run("restore-report", TENANT, "--list")
    assert text.code == 0, str(text)
    for run in listed:
        assert run["id"] in text.out
    assert text.out.count(" ok ") == 2, text.out


def test_an_unfinished_run_is_listed_as_unfinished(cli: Cli, setting: Setting) -> None:
    _two_runs(cli, setting)
    newest = setting.workspace.home / "restores" / setting.runs()[-1]
    (newest / "report.json").unlink()
    (newest / "report.csv").unlink()
    listed = cli.json("restore-report", TENANT, "--list")["runs"]
    assert listed[-1]["status"] == "unfinished"
    assert listed[-1]["counts"]["done"] == 1, "what its journal finished"
    assert_one_line_error(cli.run("restore-report", TENANT), 2, contains=("no report yet",))


def test_the_report_gives_each_recreated_objects_new_id(cli: Cli, setting: Setting) -> None:
    first, _ = _two_runs(cli, setting)
    [(old_id, new_id)] = first["id_map"].items()
    assert old_id == setting.user and new_id != old_id
    run = str(first["run"])

    text = cli.run("restore-report", TENANT, run)
    assert text.code == 0, str(text)
    [line] = [line for line in text.out.splitlines() if "recreate" in line]
    assert f"({old_id}) -> {new_id}" in line, line
    table = cli.run("restore-report", TENANT, run, "--csv")
    rows = list(csv.DictReader(io.StringIO(table.out)))
    assert [(r["object_id"], r["new_id"]) for r in rows if r["action"] == "recreate"] == \
        [(old_id, new_id)]
    value = cli.json("restore-report", TENANT, run)
    assert value["id_map"] == {old_id: new_id}
    assert [(i["object_id"], i["new_id"]) for i in value["items"]
            if i["action"] == "recreate"] == [(old_id, new_id)]
