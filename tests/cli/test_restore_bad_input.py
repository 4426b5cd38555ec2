"""``restore`` given bad input, end to end against the emulator over HTTPS (issue 5,
scenario 7): each mistake ends with one line naming it on stderr, a non-zero exit code,
and not one write to the tenant; a correct command afterwards restores as usual.

Covered here: an unknown snapshot (refused before Graph is asked anything), unknown
object ids for ``--object`` (also in a real run, not only a dry run), a default password
that is empty, unset or not given while the plan re-creates users, and a restore app
lacking one of the write permissions the plan needs (the missing ones named, the held
ones not). The planner's and the executor's own checks are in
``tests/services/test_restore_plan.py`` and ``test_restore_execute.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from entra_backup.domain.object_types import TYPES
from tests.cli.conftest_workspace import (
    Cli,
    assert_one_line_error,
    tenant_add_args,
    weak_passphrase_keys,
)
from tests.services._backup_support import LiveGraph
from tests.support.live_emulator import LiveEmulator

TENANT = "fabrikam"
SECRET_VARIABLE = "FABRIKAM_SECRET"
PASSWORD_VARIABLE = "FABRIKAM_RESTORE_PASSWORD"
PASSWORD = "Restore!2026-BadInput"
CHECKPOINT = "restore-bad-input"


@dataclass
class Setting:
    """The emulator, a home with the tenant backed up once, and what the tests break."""

    live: LiveEmulator
    workspace: Cli
    snapshot: str
    user: str
    """A cloud user, to delete for good (its re-creation needs the default password)."""
    group: str
    """A writable security group, to change."""

    def graph(self) -> LiveGraph:
        return LiveGraph(self.live)

    def writes(self) -> int:
        """Write requests the emulator has served so far (a $batch envelope is a POST
        even when it carries only reads; its inner requests are logged apart)."""
        return sum(1 for r in self.live.control("GET", "/log")
                   if r["method"] != "GET" and r["path"] != "/$batch")

    def requests(self) -> int:
        return len(self.live.control("GET", "/log"))


@pytest.fixture(scope="module", autouse=True)
def _weak_keys() -> Iterator[None]:
    with weak_passphrase_keys():
        yield


@pytest.fixture(scope="module")
def setting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setting]:
    live = LiveEmulator.start(tmp_path_factory.mktemp("restore-bad-input-emulator"), users=30,
                              seed=7, throttle="off")
    try:
        cli = Cli.for_home(tmp_path_factory.mktemp("restore-bad-input") / "home",
                           {SECRET_VARIABLE: live.client_secret, PASSWORD_VARIABLE: PASSWORD})
        for args in (["init"], tenant_add_args(live, TENANT, SECRET_VARIABLE)):
            assert cli.run(*args).code == 0
        backed_up = cli.run("backup", TENANT, "--json")
        assert backed_up.code == 0, str(backed_up)
        live.control("POST", "/state/checkpoint", {"name": CHECKPOINT})
        graph = LiveGraph(live)
        try:
            users = graph.iterate("users", {"$select": "id,onPremisesSyncEnabled,userType"})
            user = sorted(u["id"] for u in users
                          if not u["onPremisesSyncEnabled"] and u["userType"] == "Member")[-1]
            groups = graph.iterate("groups")
            group = sorted(g["id"] for g in groups if g["securityEnabled"]
                           and not g["mailEnabled"] and not g["groupTypes"]
                           and not g["onPremisesSyncEnabled"] and not g["isAssignableToRole"])[0]
        finally:
            graph.close()
        yield Setting(live, cli, backed_up.json()["snapshot"], user, group)
    finally:
        live.stop()


@pytest.fixture
def cli(setting: Setting, capsys: pytest.CaptureFixture[str]) -> Cli:
    setting.live.control("POST", "/state/rollback", {"name": CHECKPOINT})
    return setting.workspace.with_capsys(capsys)


def _change_user_and_group(setting: Setting) -> None:
    graph = setting.graph()
    try:
        graph.call("PATCH", f"users/{setting.user}", {"jobTitle": "Changed after the backup"},
                   expect=204)
        graph.call("PATCH", f"groups/{setting.group}", {"description": "Changed too"},
                   expect=204)
    finally:
        graph.close()


def _delete_user_for_good(setting: Setting) -> None:
    graph = setting.graph()
    try:
        graph.call("DELETE", f"users/{setting.user}", expect=204)
        graph.call("DELETE", f"directory/deletedItems/{setting.user}", expect=204)
    finally:
        graph.close()


def _users_named(setting: Setting, upn: str) -> list[dict[str, Any]]:
    graph = setting.graph()
    try:
        return graph.iterate("users", {"$filter": f"userPrincipalName eq '{upn}'"})
    finally:
        graph.close()


# --- the snapshot and the objects ----------------------------------------------------------


@pytest.mark.parametrize("reference", ["0000dead", "ffffffff-not-a-snapshot"])
@pytest.mark.parametrize("dry_run", [True, False])
def test_an_unknown_snapshot_is_refused_before_graph_is_asked(
        cli: Cli, setting: Setting, reference: str, dry_run: bool) -> None:
    _change_user_and_group(setting)
    before = setting.requests()
    args = ["restore", TENANT, "--snapshot", reference, "--default-password-env",
            PASSWORD_VARIABLE, *(["--dry-run"] if dry_run else ["--yes"])]
    assert_one_line_error(cli.run(*args), 23, contains=(reference,))
    assert setting.requests() == before, "no Graph request at all"


@pytest.mark.parametrize(("objects", "types", "named"), [
    (["nope"], [], ["nope"]),
    (["nope", "nada"], [], ["nope", "nada"]),
    ("{group}", ["users"], ["{group}"]),
])
def test_unknown_object_ids_are_named_and_nothing_is_written(
        cli: Cli, setting: Setting, objects: list[str] | str, types: list[str],
        named: list[str]) -> None:
    _change_user_and_group(setting)
    chosen = [setting.group] if objects == "{group}" else list(objects)
    names = [setting.group if n == "{group}" else n for n in named]
    before = setting.writes()
    args = ["restore", TENANT, "--snapshot", setting.snapshot, "--default-password-env",
            PASSWORD_VARIABLE, "--yes"]
    for object_id in chosen:
        args += ["--object", object_id]
    for type_name in types:
        args += ["--type", type_name]
    assert_one_line_error(cli.run(*args), 2, contains=tuple(names))
    assert setting.writes() == before
    # The same command with a known id restores that object only.
    done = cli.run("restore", TENANT, "--snapshot", setting.snapshot, "--object",
                   setting.user, "--json", "--yes")
    assert done.code == 0, str(done)
    assert done.json()["counts"]["done"] == 1


# --- the default password ------------------------------------------------------------------


@pytest.mark.parametrize(("variable", "value", "contains"), [
    ("EMPTY_RESTORE_PASSWORD", "", ("EMPTY_RESTORE_PASSWORD", "empty")),
    ("UNSET_RESTORE_PASSWORD", None, ("UNSET_RESTORE_PASSWORD", "not set")),
    (None, None, ("default password",)),
])
def test_recreating_users_without_a_usable_default_password_writes_nothing(
        cli: Cli, setting: Setting, variable: str | None, value: str | None,
        contains: tuple[str, ...]) -> None:
    upn = next(iter(_stored_upn(cli, setting)))
    _delete_user_for_good(setting)
    before = setting.writes()
    args = ["restore", TENANT, "--snapshot", setting.snapshot, "--type", "users", "--yes"]
    if variable is not None:
        args += ["--default-password-env", variable]
    refused = cli.with_env(**({variable: value} if variable else {})).run(*args)
    assert_one_line_error(refused, 2, contains=contains)
    assert setting.writes() == before
    assert _users_named(setting, upn) == []
    # Given a password, the same restore re-creates the user, with one progress bar on
    # stderr and the summary on stdout.
    done = cli.run(*args[:7], "--default-password-env", PASSWORD_VARIABLE)
    assert done.code == 0, str(done)
    assert "restoring" in done.err and " 0 failed" in done.err, done.err
    summary = next(line for line in done.out.splitlines() if line.startswith("Restore "))
    assert summary.endswith(" done, 0 skipped, 0 failed."), summary
    assert len(_users_named(setting, upn)) == 1


def _stored_upn(cli: Cli, setting: Setting) -> set[str]:
    shown = cli.json("show", TENANT, setting.user, "--snapshot", setting.snapshot)
    return {str(shown["properties"]["userPrincipalName"])}


# --- the restore app's permissions -------------------------------------------------------------


def test_a_restore_app_lacking_a_write_permission_is_named_before_any_write(
        cli: Cli, setting: Setting) -> None:
    """The app may write users but not groups; the plan writes both."""
    readers = sorted({t.read_permission for t in TYPES})
    app = setting.live.control("POST", "/apps",
                               {"permissions": [*readers, "User.ReadWrite.All"]})
    limited = cli.with_env(LIMITED_SECRET=app["client_secret"])
    added = limited.run(*tenant_add_args(setting.live, "limited", "LIMITED_SECRET",
                                         client_id=app["client_id"]))
    assert added.code == 0, str(added)
    backed_up = limited.run("backup", "limited", "--json")
    assert backed_up.code == 0, str(backed_up)
    snapshot = backed_up.json()["snapshot"]
    _change_user_and_group(setting)
    # Planning needs only the read permissions.
    planned = limited.run("restore", "limited", "--snapshot", snapshot, "--type", "users",
                          "--type", "groups", "--dry-run", "--json")
    assert planned.code == 0, str(planned)
    assert {i["type"] for i in planned.json()["items"]} == {"users", "groups"}
    before = setting.writes()

    refused = limited.run("restore", "limited", "--snapshot", snapshot, "--type", "users",
                          "--type", "groups", "--yes")

    line = assert_one_line_error(refused, 6, contains=(
        "Group.ReadWrite.All", "GroupMember.ReadWrite.All", "groups", "nothing was written"))
    assert "User.ReadWrite.All" not in line, "a permission the app holds is not named"
    assert setting.writes() == before, "not even the users it could write"
