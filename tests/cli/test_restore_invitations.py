"""``restore --send-invitations``: a guest deleted for good is invited again, and Graph
mails the invitation only when the operator asks (the report says which it did)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.cli._restore_cli_support import TENANT, Setting, build_setting, fresh
from tests.cli.conftest_workspace import weak_passphrase_keys


@pytest.fixture(scope="module", autouse=True)
def _weak_keys() -> Iterator[None]:
    with weak_passphrase_keys():
        yield


@pytest.fixture(scope="module")
def setting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setting]:
    made = build_setting(tmp_path_factory.mktemp("restore-invitations"))
    try:
        yield made
    finally:
        made.live.stop()


def _guest(setting: Setting) -> str:
    graph = setting.graph()
    try:
        users = graph.iterate("users", {"$select": "id,userType"})
    finally:
        graph.close()
    guests = sorted(u["id"] for u in users if u["userType"] == "Guest")
    assert guests, "the generated tenant has guests"
    return guests[0]


def _guest_notes(setting: Setting, capsys: pytest.CaptureFixture[str],
                 *flags: str) -> list[str]:
    cli = fresh(setting, capsys)
    guest = _guest(setting)
    graph = setting.graph()
    try:
        graph.call("DELETE", f"users/{guest}", expect=204)
        graph.call("DELETE", f"directory/deletedItems/{guest}", expect=204)
    finally:
        graph.close()
    result = cli.run("restore", TENANT, "--snapshot", "latest", "--type", "users",
                     "--no-relationships", "--yes", "--json", *flags)
    assert result.code == 0, str(result)
    items: list[dict[str, Any]] = result.json()["items"]
    item = next(i for i in items if i["object_id"] == guest)
    assert item["new_id"], item
    return list(item["notes"])


@pytest.mark.slow
def test_the_invitation_is_mailed_only_with_send_invitations(
        setting: Setting, capsys: pytest.CaptureFixture[str]) -> None:
    quiet = _guest_notes(setting, capsys)
    mailed = _guest_notes(setting, capsys, "--send-invitations")
    assert any("no invitation mail was sent" in note for note in quiet), quiet
    assert any("the invitation mail was sent" in note for note in mailed), mailed


def test_a_plan_with_nothing_to_do_says_so_without_an_empty_table(
        setting: Setting, capsys: pytest.CaptureFixture[str]) -> None:
    cli = fresh(setting, capsys)
    result = cli.run("restore", TENANT, "--snapshot", "latest", "--type", "groups",
                     "--dry-run")
    assert result.code == 0, str(result)
    assert "Nothing to restore: the tenant matches the snapshot" in result.out
    assert "┏" not in result.out  # no empty table of types and actions
