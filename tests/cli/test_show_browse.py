"""``show``, ``diff``, ``search`` and snapshot choice as a person uses them, end to end
against the emulator over HTTPS: objects named by UPN, mail or appId; a user's groups, AUs,
roles and licences by name; names beside ids; snapshots chosen by date-time; and
``search --from/--to`` meaning "changed in that range".

One module-scoped emulator and home: a first backup, then one cloud user is retitled,
added to a group and an administrative unit and given a directory role through Graph, then
a second backup. The user's new manager is another cloud user left otherwise unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cli.conftest_workspace import (
    Cli,
    assert_one_line_error,
    tenant_add_args,
    weak_passphrase_keys,
)
from tests.support.live_emulator import LiveEmulator

TENANT = "tailspin"
SECRET_VARIABLE = "TAILSPIN_SECRET"
NEW_TITLE = "Acting Treasurer"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveEmulator]:
    with LiveEmulator.running(tmp_path_factory.mktemp("show-emulator"), users=40, seed=23,
                                  throttle="off") as emulator:
        yield emulator


@pytest.fixture(scope="module", autouse=True)
def _weak_keys() -> Iterator[None]:
    with weak_passphrase_keys():
        yield


@dataclass(frozen=True)
class World:
    """What the tenant held and what the test changed between the two backups."""

    cli: Cli
    user: dict[str, Any]
    steady: dict[str, Any]
    group: dict[str, Any]
    mail_group: dict[str, Any]
    unit: dict[str, Any]
    role: dict[str, Any]
    app: dict[str, Any]
    skus: dict[str, str]
    first: dict[str, Any]
    second: dict[str, Any]


def _ok(response: httpx.Response, *statuses: int) -> httpx.Response:
    assert response.status_code in statuses, (response.request.url, response.text)
    return response


def _values(graph: httpx.Client, path: str, **params: str) -> list[dict[str, Any]]:
    return list(_ok(graph.get(path, params=params), 200).json()["value"])


def _cloud_users(graph: httpx.Client) -> list[dict[str, Any]]:
    users = _values(graph, "users", **{
        "$select": "id,displayName,userPrincipalName,mail,jobTitle,onPremisesSyncEnabled,"
                   "assignedLicenses", "$top": "999"})
    return [u for u in users if u.get("onPremisesSyncEnabled") is not True
            and u.get("mail") and u.get("assignedLicenses")]


def _plain_group(graph: httpx.Client, user_id: str) -> dict[str, Any]:
    groups = _values(graph, "groups", **{
        "$select": "id,displayName,mail,onPremisesSyncEnabled,membershipRule,"
                   "isAssignableToRole"})
    for group in groups:
        if group.get("onPremisesSyncEnabled") is True or group.get("membershipRule") \
                or group.get("isAssignableToRole"):
            continue
        members = {m["id"] for m in _values(graph, f"groups/{group['id']}/members")}
        if user_id not in members:
            return group
    raise AssertionError("no plain group without the user")


def _app_with_service_principal(graph: httpx.Client) -> dict[str, Any]:
    principals = {sp["appId"] for sp in _values(graph, "servicePrincipals", **{
        "$select": "id,appId", "$top": "999"})}
    return next(app for app in _values(graph, "applications", **{
        "$select": "id,appId,displayName", "$top": "999"}) if app["appId"] in principals)


def _change(live: LiveEmulator) -> dict[str, Any]:
    """Retitle a licensed cloud user, give them a manager, add them to a group and an AU,
    and give them a role."""
    with live.http() as graph:
        user, steady = _cloud_users(graph)[:2]
        group = _plain_group(graph, user["id"])
        mail_group = next(g for g in _values(graph, "groups", **{"$select": "id,mail"})
                          if g.get("mail"))
        unit = _ok(graph.post("directory/administrativeUnits", json={
            "displayName": "Treasury Staff", "description": "Added by the test"}), 201).json()
        role = next(r for r in _values(graph, "roleManagement/directory/roleDefinitions")
                    if r["displayName"] == "Helpdesk Administrator")
        _ok(graph.patch(f"users/{user['id']}", json={"jobTitle": NEW_TITLE}), 204)
        reference = {"@odata.id": f"{live.graph_url}/directoryObjects/{user['id']}"}
        _ok(graph.post(f"groups/{group['id']}/members/$ref", json=reference), 204)
        _ok(graph.put(f"users/{user['id']}/manager/$ref", json={
            "@odata.id": f"{live.graph_url}/users/{steady['id']}"}), 204)
        _ok(graph.post(f"directory/administrativeUnits/{unit['id']}/members/$ref",
                       json=reference), 204)
        _ok(graph.post("roleManagement/directory/roleAssignments", json={
            "principalId": user["id"], "roleDefinitionId": role["id"],
            "directoryScopeId": "/"}), 201)
        skus = {s["skuId"]: s["skuPartNumber"] for s in _values(graph, "subscribedSkus")}
        return {"user": user, "steady": steady, "group": group, "mail_group": mail_group,
                "unit": unit, "role": role,
                "app": _app_with_service_principal(graph), "skus": skus}


@pytest.fixture(scope="module")
def world(live: LiveEmulator, tmp_path_factory: pytest.TempPathFactory) -> World:
    cli = Cli.for_home(tmp_path_factory.mktemp("show-home") / "home",
                       {SECRET_VARIABLE: live.client_secret})
    for args in (["init"], tenant_add_args(live, TENANT, SECRET_VARIABLE),
                 ["backup", TENANT, "--json"]):
        result = cli.run(*args)
        assert result.code == 0, str(result)
    changed = _change(live)
    result = cli.run("backup", TENANT, "--json")
    assert result.code == 0, str(result)
    first, second = cli.json("snapshots", TENANT)
    return World(cli=cli, first=first, second=second, **changed)


@pytest.fixture
def cli(world: World, capsys: pytest.CaptureFixture[str]) -> Cli:
    return world.cli.with_capsys(capsys)


def _time(snapshot: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(snapshot["time"])


# --- 1. show by UPN, mail or appId ----------------------------------------------------------


def test_show_finds_a_user_by_upn_or_mail_in_any_case(world: World, cli: Cli) -> None:
    for reference in (world.user["userPrincipalName"].upper(), world.user["mail"].lower()):
        view = cli.json("show", TENANT, reference)
        assert (view["type"], view["id"]) == ("users", world.user["id"]), reference


def test_show_finds_a_group_by_its_mail(world: World, cli: Cli) -> None:
    view = cli.json("show", TENANT, world.mail_group["mail"].upper())
    assert (view["type"], view["id"]) == ("groups", world.mail_group["id"])


def test_an_app_id_naming_an_app_and_its_principal_is_refused_listing_both(
        world: World, cli: Cli) -> None:
    line = assert_one_line_error(cli.run("show", TENANT, world.app["appId"], "--json"), 2,
                                 contains=(world.app["id"], "servicePrincipals", "--type"))
    assert "matches 2 objects" in line
    view = cli.json("show", TENANT, world.app["appId"], "--type", "applications")
    assert (view["type"], view["id"]) == ("applications", world.app["id"])


def test_a_key_nothing_holds_is_a_one_line_error(cli: Cli) -> None:
    assert_one_line_error(cli.run("show", TENANT, "nobody@nowhere.example", "--json"), 23,
                          contains=("nobody@nowhere.example",))


# --- 2. memberships and licence names -------------------------------------------------------


def test_a_users_show_lists_groups_aus_roles_and_licences_by_name(world: World,
                                                                   cli: Cli) -> None:
    view = cli.json("show", TENANT, world.user["id"])
    around = view["memberships"]
    assert {"id": world.group["id"], "displayName": world.group["displayName"]} in \
        around["groups"]
    assert {"id": world.unit["id"], "displayName": world.unit["displayName"]} in \
        around["administrativeUnits"]
    assert [(a["roleDefinitionId"], a["roleName"]) for a in around["roleAssignments"]] == [
        (world.role["id"], "Helpdesk Administrator")]
    assigned = [item["skuId"] for item in world.user["assignedLicenses"]]
    assert view["license_names"] == [
        {"skuId": sku, "skuPartNumber": world.skus[sku]} for sku in assigned]
    assert view["licenses"] == world.user["assignedLicenses"], "the old key is unchanged"
    assert view["relationships"]["manager"]["id"] == world.steady["id"]
    assert view["names"][world.steady["id"]] == world.steady["displayName"]


def test_the_first_snapshot_shows_the_memberships_before_the_change(world: World,
                                                                     cli: Cli) -> None:
    view = cli.json("show", TENANT, world.user["id"], "--snapshot", world.first["id"])
    assert world.group["id"] not in {g["id"] for g in view["memberships"]["groups"]}
    assert view["memberships"]["roleAssignments"] == []


def test_a_groups_show_names_its_members(world: World, cli: Cli) -> None:
    view = cli.json("show", TENANT, world.group["id"])
    members = {edge["id"] for edge in view["relationships"]["members"]}
    assert world.user["id"] in members
    assert view["names"][world.user["id"]] == world.user["displayName"]
    assert set(view["names"]) >= members
    text = cli.run("show", TENANT, world.group["id"])
    assert f"{world.user['id']} ({world.user['displayName']})" in text.out


def test_show_text_names_the_groups_and_licences(world: World, cli: Cli) -> None:
    result = cli.run("show", TENANT, world.user["userPrincipalName"])
    assert result.code == 0, str(result)
    assert f"{world.group['id']} ({world.group['displayName']})" in result.out
    assert "(Helpdesk Administrator)" in result.out
    assert "licences: " + ", ".join(world.skus[item["skuId"]] for item in
                                    world.user["assignedLicenses"]) in result.out


# --- 3. names beside ids in diff ------------------------------------------------------------


def test_diff_names_the_added_member(world: World, cli: Cli) -> None:
    result = cli.json("diff", TENANT, world.first["id"], world.second["id"])
    assert result["names"][world.user["id"]] == world.user["displayName"]
    group = next(o for o in result["objects"] if o["id"] == world.group["id"])
    members = next(r for r in group["relationships"] if r["name"] == "members")
    assert [edge["id"] for edge in members["added"]] == [world.user["id"]]
    text = cli.run("diff", TENANT, world.first["id"], world.second["id"])
    assert f"members + {world.user['id']} ({world.user['displayName']})" in text.out
    assert f"manager + {world.steady['id']} ({world.steady['displayName']})" in text.out


def test_diff_of_one_object_names_its_edges(world: World, cli: Cli) -> None:
    result = cli.json("diff", TENANT, world.first["id"], world.second["id"],
                      "--object", world.group["id"])
    assert result["names"] == {world.user["id"]: world.user["displayName"]}


# --- 4. snapshots by date-time --------------------------------------------------------------


def test_a_time_between_the_backups_chooses_the_first(world: World, cli: Cli) -> None:
    between = _time(world.first) + (_time(world.second) - _time(world.first)) / 2
    naive_utc = between.replace(tzinfo=None).isoformat()
    assert cli.json("ls", TENANT, "--at", naive_utc, "--type", "users")["snapshot"] == \
        world.first["id"]
    assert cli.json("ls", TENANT, between.isoformat())["snapshot"] == world.first["id"]
    view = cli.json("show", TENANT, world.user["id"], "--at", naive_utc)
    assert view["snapshot"] == world.first["id"]
    assert view["properties"].get("jobTitle") != NEW_TITLE


def test_a_date_alone_means_the_end_of_that_day(world: World, cli: Cli) -> None:
    day = _time(world.second).date().isoformat()
    assert cli.json("ls", TENANT, "--at", day)["snapshot"] == world.second["id"]


def test_a_time_with_an_offset_is_converted(world: World, cli: Cli) -> None:
    second = _time(world.second).astimezone(timezone(timedelta(hours=5, minutes=30)))
    shifted = (second + timedelta(microseconds=1)).isoformat()
    assert cli.json("ls", TENANT, "--at", shifted)["snapshot"] == world.second["id"]


def test_diff_and_export_take_date_times(world: World, cli: Cli, tmp_path: Path) -> None:
    result = cli.json("diff", TENANT, world.first["time"], world.second["time"])
    assert (result["before"], result["after"]) == (world.first["id"], world.second["id"])
    exported = cli.json("export", TENANT, "-o", str(tmp_path / "x.zip"),
                        "--at", world.first["time"])
    assert exported["snapshot"] == world.first["id"]


def test_a_time_before_the_first_snapshot_names_the_first(world: World, cli: Cli) -> None:
    early = (_time(world.first) - timedelta(seconds=1)).isoformat()
    assert_one_line_error(cli.run("ls", TENANT, "--at", early, "--json"), 23,
                          contains=(world.first["time"], world.first["short_id"]))


def test_a_snapshot_and_at_together_or_a_bad_date_are_refused(world: World, cli: Cli) -> None:
    assert_one_line_error(cli.run("ls", TENANT, "latest", "--at", world.first["time"],
                                  "--json"), 2, contains=("--at",))
    assert_one_line_error(cli.run("ls", TENANT, "--at", "yesterday", "--json"), 2,
                          contains=("yesterday",))
    assert_one_line_error(cli.run("ls", TENANT, "2026-13-45", "--json"), 2,
                          contains=("2026-13-45",))


# --- 5. search --from/--to means "changed in that range" -----------------------------------


def test_search_range_finds_the_changed_user_and_not_an_unchanged_one(world: World,
                                                                       cli: Cli) -> None:
    start = (_time(world.first) + timedelta(microseconds=1)).isoformat()
    found = cli.json("search", TENANT, "", "--type", "users", "--from", start,
                     "--to", world.second["time"])
    ids = {row["id"] for row in found}
    assert world.user["id"] in ids
    assert world.steady["id"] not in ids
    changed = next(row for row in found if row["id"] == world.user["id"])
    assert changed["changed_at"] == world.second["time"], "seen first in the second backup"


def test_restore_takes_a_date_time_for_its_snapshot(world: World, cli: Cli) -> None:
    between = _time(world.first) + (_time(world.second) - _time(world.first)) / 2
    result = cli.run("restore", TENANT, "--snapshot", between.isoformat(), "--type", "users",
                     "--dry-run", "--json")
    assert result.code == 0, str(result)
    assert result.json()["snapshot"] == world.first["id"]


def test_diff_against_live_names_a_member_only_the_live_tenant_holds(
        world: World, cli: Cli, live: LiveEmulator) -> None:
    with live.http() as graph:
        newcomer = _ok(graph.post("users", json={
            "accountEnabled": True, "displayName": "Newly Hired", "mailNickname": "newhire",
            "userPrincipalName": f"newhire@{world.user['userPrincipalName'].split('@')[1]}",
            "passwordProfile": {"password": "Str0ng!Passw0rd#2026"}}), 201).json()
        reference = {"@odata.id": f"{live.graph_url}/directoryObjects/{newcomer['id']}"}
        _ok(graph.post(f"groups/{world.group['id']}/members/$ref", json=reference), 204)
    try:
        result = cli.json("diff", TENANT, "latest", "live")
        text = cli.run("diff", TENANT, "latest", "live")
    finally:
        with live.http() as graph:
            _ok(graph.delete(f"users/{newcomer['id']}"), 204)
    assert result["names"][newcomer["id"]] == "Newly Hired"
    assert f"members + {newcomer['id']} (Newly Hired)" in text.out
