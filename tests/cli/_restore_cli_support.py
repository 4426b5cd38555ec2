"""What the CLI restore tests share: an emulated tenant backed up once (with an enabled
Conditional Access policy of our own), rolled back before each test, and a real
terminal (a pseudo-terminal) on stdin that answers the restore's question.
"""

from __future__ import annotations

import contextlib
import os
import pty
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from entra_backup.bootstrap import Workspace
from entra_backup.config import PASSPHRASE_VARIABLE
from entra_backup.store.crypto import RepositoryKeys
from tests.cli.conftest_workspace import PASSPHRASE, Cli, tenant_add_args
from tests.services._backup_support import LiveGraph
from tests.support.live_emulator import LiveEmulator

TENANT = "fabrikam"
SECRET_VARIABLE = "FABRIKAM_SECRET"
PASSWORD_VARIABLE = "FABRIKAM_RESTORE_PASSWORD"
PASSWORD = "Restore!2026-AskFirst"
POLICY_NAME = "Require MFA for everyone (restore test)"
CHECKPOINT = "restore-cli"


@dataclass
class Setting:
    """The emulator, a home with the tenant backed up once, and picked objects."""

    live: LiveEmulator
    workspace: Cli
    snapshot: str
    user: str
    """A cloud member user (its re-creation needs the default password)."""
    group: str
    """A writable security group."""
    policy: str
    """An enabled Conditional Access policy."""

    def graph(self) -> LiveGraph:
        return LiveGraph(self.live)

    def keys(self) -> RepositoryKeys:
        """The keys of the home's repository (to make plans and journals as it does)."""
        space = Workspace(self.workspace.home, environ={PASSPHRASE_VARIABLE: PASSPHRASE})
        return space.open_repository().keys

    def writes(self) -> int:
        """Write requests the emulator has served so far ($batch envelopes aside)."""
        return sum(1 for r in self.live.control("GET", "/log")
                   if r["method"] != "GET" and r["path"] != "/$batch")

    def runs(self) -> list[str]:
        """The restore run folders in the home."""
        root = self.workspace.home / "restores"
        return sorted(p.name for p in root.iterdir()) if root.is_dir() else []

    def change_group(self) -> None:
        self._call("PATCH", f"groups/{self.group}", {"description": "Changed after backup"},
                   expect=204)

    def delete_user_for_good(self) -> None:
        self._call("DELETE", f"users/{self.user}", expect=204)
        self._call("DELETE", f"directory/deletedItems/{self.user}", expect=204)

    def delete_policy(self) -> None:
        self._call("DELETE", f"identity/conditionalAccess/policies/{self.policy}", expect=204)

    def group_description(self) -> Any:
        graph = self.graph()
        try:
            return graph.get(f"groups/{self.group}", {"$select": "description"})["description"]
        finally:
            graph.close()

    def policies_named(self, name: str) -> list[dict[str, Any]]:
        graph = self.graph()
        try:
            return [p for p in graph.iterate("identity/conditionalAccess/policies")
                    if p["displayName"] == name]
        finally:
            graph.close()

    def _call(self, method: str, path: str, body: Any = None, *, expect: int) -> None:
        graph = self.graph()
        try:
            graph.call(method, path, body, expect=expect)
        finally:
            graph.close()


def build_setting(root: Path) -> Setting:
    """A 30-user tenant with an enabled policy of ours, backed up once, checkpointed."""
    live = LiveEmulator.start(root / "emulator", users=30, seed=11, throttle="off")
    try:
        cli = Cli.for_home(root / "home",
                           {SECRET_VARIABLE: live.client_secret, PASSWORD_VARIABLE: PASSWORD})
        for args in (["init"], tenant_add_args(live, TENANT, SECRET_VARIABLE)):
            assert cli.run(*args).code == 0
        graph = LiveGraph(live)
        try:
            user, group = _picks(graph)
            policy = graph.call("POST", "identity/conditionalAccess/policies", {
                "displayName": POLICY_NAME, "state": "enabled",
                "conditions": {"clientAppTypes": ["all"],
                               "applications": {"includeApplications": ["All"]},
                               "users": {"includeUsers": ["All"]}},
                "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}},
                expect=201)["id"]
        finally:
            graph.close()
        backed_up = cli.run("backup", TENANT, "--json")
        assert backed_up.code == 0, str(backed_up)
        live.control("POST", "/state/checkpoint", {"name": CHECKPOINT})
    except BaseException:
        live.stop()
        raise
    return Setting(live, cli, backed_up.json()["snapshot"], user, group, policy)


def _picks(graph: LiveGraph) -> tuple[str, str]:
    users = graph.iterate("users", {"$select": "id,onPremisesSyncEnabled,userType"})
    user = sorted(u["id"] for u in users
                  if not u["onPremisesSyncEnabled"] and u["userType"] == "Member")[-1]
    group = sorted(g["id"] for g in graph.iterate("groups")
                   if g["securityEnabled"] and not g["mailEnabled"] and not g["groupTypes"]
                   and not g["onPremisesSyncEnabled"] and not g["isAssignableToRole"])[0]
    return user, group


def fresh(setting: Setting, capsys: pytest.CaptureFixture[str]) -> Cli:
    """The tenant as backed up and a home without restore runs."""
    setting.live.control("POST", "/state/rollback", {"name": CHECKPOINT})
    root = setting.workspace.home / "restores"
    if root.is_dir():
        for run in root.iterdir():
            for item in sorted(run.iterdir()):
                item.unlink()
            run.rmdir()
    return setting.workspace.with_capsys(capsys)


@contextlib.contextmanager
def terminal_typing(answer: str) -> Iterator[None]:
    """stdin is a pseudo-terminal on which ``answer`` and Enter were typed."""
    controller, terminal = pty.openpty()
    os.write(controller, answer.encode() + b"\n")
    try:
        with os.fdopen(terminal, "r", encoding="utf-8") as stdin, \
                pytest.MonkeyPatch.context() as patch:
            assert stdin.isatty()
            patch.setattr(sys, "stdin", stdin)
            yield
    finally:
        os.close(controller)
