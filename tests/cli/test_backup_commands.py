"""The CLI end to end against the emulator over HTTPS: a user's first day with the product.

One module-scoped emulator (60 users) and one home folder: ``init``, ``tenant add``, a
first backup, changes made through Graph as an administrator would make them, a second
backup; then every read command (``--json``) is checked against what was changed.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from entra_backup.domain.object_types import TYPES
from entra_backup.services.export import verify_export
from tests.cli.conftest_workspace import (
    PASSPHRASE,
    Cli,
    Result,
    assert_one_line_error,
    tenant_add_args,
    weak_passphrase_keys,
)
from tests.support.live_emulator import LiveEmulator

TENANT = "contoso"
SECRET_VARIABLE = "CONTOSO_BACKUP_SECRET"
NEW_TITLE = "Chief Backup Officer"
ALL_TYPES = {t.name for t in TYPES}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveEmulator]:
    with LiveEmulator.running(tmp_path_factory.mktemp("cli-emulator"), users=60, seed=11,
                                  throttle="off") as emulator:
        yield emulator


@pytest.fixture(scope="module", autouse=True)
def _weak_keys() -> Iterator[None]:
    with weak_passphrase_keys():
        yield


@dataclass(frozen=True)
class Changes:
    """What the test changed in the tenant between the two backups."""

    changed_user: dict[str, Any]
    deleted_user: dict[str, Any]
    group: dict[str, Any]
    new_member: str


@dataclass(frozen=True)
class Flow:
    cli: Cli
    init: Result
    add: Result
    first: Result
    second: Result
    changes: Changes

    @property
    def first_id(self) -> str:
        return str(self.first.json()["snapshot"])

    @property
    def second_id(self) -> str:
        return str(self.second.json()["snapshot"])


def _change_the_tenant(live: LiveEmulator) -> Changes:
    """As an administrator: retitle one cloud-only user, delete another, add a group member.

    The deleted user manages and owns nothing, so no other object's stored document
    changes with it (memberships of a soft-deleted user stay, as delta reports them).
    """
    with live.http() as graph:
        users = graph.get("users", params={
            "$select": "id,displayName,jobTitle,onPremisesSyncEnabled", "$top": "999"}
        ).json()["value"]
        cloud = [u for u in users if u.get("onPremisesSyncEnabled") is not True]

        def empty(user: dict[str, Any], navigation: str) -> bool:
            response = graph.get(f"users/{user['id']}/{navigation}")
            assert response.status_code == 200, response.text
            return not response.json()["value"]

        deleted = next(u for u in cloud
                       if empty(u, "directReports") and empty(u, "ownedObjects"))
        changed = next(u for u in cloud if u["id"] != deleted["id"]
                       and u.get("jobTitle") != NEW_TITLE and len(u["displayName"]) >= 6)
        groups = graph.get("groups", params={
            "$select": "id,displayName,onPremisesSyncEnabled,membershipRule,isAssignableToRole"}
        ).json()["value"]
        group = next(g for g in groups if g.get("onPremisesSyncEnabled") is not True
                     and not g.get("membershipRule") and not g.get("isAssignableToRole"))
        members = {m["id"] for m in graph.get(f"groups/{group['id']}/members").json()["value"]}
        new_member = next(u["id"] for u in cloud if u["id"] not in members
                          and u["id"] not in (deleted["id"], changed["id"]))

        _expect(graph.patch(f"users/{changed['id']}", json={"jobTitle": NEW_TITLE}), 204)
        _expect(graph.delete(f"users/{deleted['id']}"), 204)
        _expect(graph.post(f"groups/{group['id']}/members/$ref", json={
            "@odata.id": f"{live.graph_url}/directoryObjects/{new_member}"}), 204)
    return Changes(changed, deleted, group, new_member)


def _expect(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, (response.request.url, response.text)


@pytest.fixture(scope="module")
def flow(live: LiveEmulator, tmp_path_factory: pytest.TempPathFactory) -> Flow:
    home = tmp_path_factory.mktemp("cli-home") / "home"
    cli = Cli.for_home(home, {SECRET_VARIABLE: live.client_secret})
    init = cli.run("init", "--json")
    assert init.code == 0, str(init)
    add = cli.run(*tenant_add_args(live, TENANT, SECRET_VARIABLE))
    assert add.code == 0, str(add)
    first = cli.run("backup", TENANT, "--json")
    assert first.code == 0, str(first)
    changes = _change_the_tenant(live)
    second = cli.run("backup", TENANT, "--json")
    assert second.code == 0, str(second)
    return Flow(cli, init, add, first, second, changes)


@pytest.fixture
def cli(flow: Flow, capsys: pytest.CaptureFixture[str]) -> Cli:
    return flow.cli.with_capsys(capsys)


def _by_type(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["type"]: item for item in summary["types"]}


# --- set-up ------------------------------------------------------------------------------


def test_init_creates_a_passphrase_repository_in_the_home(flow: Flow) -> None:
    made = flow.init.json()
    home = flow.cli.home
    assert made["key_provider"] == "passphrase"
    assert Path(made["repository"]) == (home / "repository").resolve()
    assert (home / "config.toml").is_file()
    assert (home / "repository").is_dir()
    assert flow.init.err == ""


def test_tenant_list_shows_the_tenant_without_its_secret(flow: Flow, cli: Cli,
                                                         live: LiveEmulator) -> None:
    listed = cli.json("tenant", "list")
    assert [t["name"] for t in listed] == [TENANT]
    (record,) = listed
    assert record["tenant_id"] == live.tenant_id
    assert record["client_id"] == live.client_id
    assert record["secret_env"] == SECRET_VARIABLE
    assert record["graph_url"] == live.graph_url
    assert record["authority"] == live.authority
    assert live.client_secret not in str(listed)
    assert live.client_secret not in (flow.cli.home / "tenants.json").read_text()
    assert PASSPHRASE not in "".join(p.read_text(errors="replace")
                                     for p in flow.cli.home.glob("*.json"))


def test_tenant_check_grants_every_type(cli: Cli) -> None:
    report = cli.json("tenant", "check", TENANT)
    assert report["missing"] == []
    assert {t["type"] for t in report["types"]} == ALL_TYPES
    assert all(t["granted"] for t in report["types"]), report["types"]


def test_consent_url_names_the_tenant_and_the_app(cli: Cli, live: LiveEmulator) -> None:
    result = cli.run("tenant", "consent-url", TENANT)
    assert result.code == 0, str(result)
    url = result.out.strip()
    assert "\n" not in url
    parts = urlsplit(url)
    assert parts.scheme == "https"
    assert parts.path == f"/{live.tenant_id}/v2.0/adminconsent"
    assert parse_qs(parts.query)["client_id"] == [live.client_id]
    assert cli.json("tenant", "consent-url", TENANT)["url"] == url


# --- backups -----------------------------------------------------------------------------


def test_the_first_backup_reads_every_type_fully(flow: Flow) -> None:
    summary = flow.first.json()
    types = _by_type(summary)
    assert set(types) == ALL_TYPES
    assert {name: t["status"] for name, t in types.items()} == dict.fromkeys(ALL_TYPES, "ok")
    assert summary["partial"] is False
    assert summary["objects"] > 0
    assert types["users"]["objects"] == 60
    assert types["users"]["mode"] == "full"
    assert summary["new_versions"] == summary["objects"]


def test_the_second_backup_stores_only_the_changes_by_delta(flow: Flow) -> None:
    first, summary = flow.first.json(), flow.second.json()
    types = _by_type(summary)
    assert summary["partial"] is False
    assert all(t["status"] == "ok" for t in types.values())
    assert types["users"]["mode"] == "delta"
    assert types["groups"]["mode"] == "delta"
    # The retitled user and the group with a new member; the deletion is a removal.
    assert summary["new_versions"] == 2
    assert {name: t["new_versions"] for name, t in types.items() if t["new_versions"]} == {
        "users": 1, "groups": 1}
    assert types["users"]["removed"] == 1
    assert types["users"]["objects"] == 59
    assert summary["objects"] == first["objects"] - 1


# --- reading back ------------------------------------------------------------------------


def test_snapshots_lists_both_newest_last(flow: Flow, cli: Cli) -> None:
    listed = cli.json("snapshots", TENANT)
    assert [s["id"] for s in listed] == [flow.first_id, flow.second_id]
    assert [s["partial"] for s in listed] == [False, False]
    assert listed[0]["time"] < listed[1]["time"]
    assert listed[1]["objects"] == flow.second.json()["objects"]
    assert all(s["tenant"] == TENANT for s in listed)


def test_ls_latest_lists_the_users_without_the_deleted_one(flow: Flow, cli: Cli) -> None:
    listing = cli.json("ls", TENANT, "latest", "--type", "users")
    assert listing["snapshot"] == flow.second_id
    ids = [row["id"] for row in listing["objects"]]
    assert len(ids) == 59 == len(set(ids))
    assert {row["type"] for row in listing["objects"]} == {"users"}
    assert flow.changes.deleted_user["id"] not in ids
    assert flow.changes.changed_user["id"] in ids
    first = cli.json("ls", TENANT, flow.first_id, "--type", "users")
    assert flow.changes.deleted_user["id"] in {row["id"] for row in first["objects"]}


def test_show_gives_the_new_properties_relationships_and_two_versions(flow: Flow,
                                                                      cli: Cli) -> None:
    user = flow.changes.changed_user
    view = cli.json("show", TENANT, user["id"])
    assert view["type"] == "users"
    assert view["snapshot"] == flow.second_id
    assert view["properties"]["jobTitle"] == NEW_TITLE
    assert view["properties"]["displayName"] == user["displayName"]
    assert "manager" in view["relationships"]
    assert "manager" not in view["properties"]
    timeline = view["timeline"]
    assert len(timeline) == 2
    assert [row["first_snapshot"] for row in timeline] == [flow.first_id, flow.second_id]
    assert timeline[0]["last_snapshot"] == flow.first_id
    assert timeline[1]["last_snapshot"] is None
    assert timeline[0]["version"] != timeline[1]["version"]
    old = cli.json("show", TENANT, user["id"], "--snapshot", flow.first_id)
    assert old["properties"]["jobTitle"] == user.get("jobTitle")


def test_search_by_part_of_a_name_finds_both_versions(flow: Flow, cli: Cli) -> None:
    user = flow.changes.changed_user
    part = user["displayName"][1:6].lower()
    found = cli.json("search", TENANT, part)
    mine = [row for row in found if row["id"] == user["id"]]
    assert len(mine) == 2
    assert all(part in (row["displayName"] or "").lower()
               or part in (row["userPrincipalName"] or "").lower()
               or part in (row["mail"] or "").lower()
               or part in (row["appId"] or "").lower() for row in found)


def test_search_deleted_only_finds_exactly_the_deleted_user(flow: Flow, cli: Cli) -> None:
    found = cli.json("search", TENANT, "", "--deleted-only")
    assert [(row["type"], row["id"]) for row in found] == [
        ("users", flow.changes.deleted_user["id"])]
    assert found[0]["deleted"] is True
    assert found[0]["displayName"] == flow.changes.deleted_user["displayName"]


def test_diff_between_the_snapshots_names_exactly_what_changed(flow: Flow, cli: Cli) -> None:
    changes = flow.changes
    result = cli.json("diff", TENANT, flow.first_id, "latest")
    assert (result["before"], result["after"]) == (flow.first_id, flow.second_id)
    statuses = {(item["type"], item["id"]): item["status"] for item in result["objects"]}
    assert statuses == {
        ("users", changes.changed_user["id"]): "modified",
        ("users", changes.deleted_user["id"]): "removed",
        ("groups", changes.group["id"]): "modified",
    }
    counts = {name: c for name, c in result["counts"].items() if any(c.values())}
    assert counts == {"users": {"added": 0, "removed": 1, "modified": 1},
                      "groups": {"added": 0, "removed": 0, "modified": 1}}
    group = next(item for item in result["objects"] if item["type"] == "groups")
    assert group["attributes"] == []
    (members,) = group["relationships"]
    assert members["name"] == "members"
    assert [edge["id"] for edge in members["added"]] == [changes.new_member]
    assert members["removed"] == []


def test_diff_of_one_object_gives_the_job_title_change(flow: Flow, cli: Cli) -> None:
    user = flow.changes.changed_user
    result = cli.json("diff", TENANT, flow.first_id, "latest", "--object", user["id"],
                      "--only-changes")
    assert "documents" not in result
    (item,) = result["objects"]
    assert (item["id"], item["status"]) == (user["id"], "modified")
    assert item["attributes"] == [{"name": "jobTitle", "kind": "changed",
                                   "before": user.get("jobTitle"), "after": NEW_TITLE}]
    assert item["relationships"] == []


def test_diff_against_live_sees_nothing_then_exactly_a_new_change(flow: Flow, cli: Cli,
                                                                  live: LiveEmulator) -> None:
    quiet = cli.json("diff", TENANT, "latest", "live", "--type", "users")
    assert quiet["before"] == flow.second_id
    assert quiet["objects"] == []
    user = flow.changes.changed_user
    with live.http() as graph:
        _expect(graph.patch(f"users/{user['id']}", json={"jobTitle": "Chief Restore Officer"}),
                204)
    try:
        moved = cli.json("diff", TENANT, "latest", "live", "--type", "users")
    finally:
        with live.http() as graph:
            _expect(graph.patch(f"users/{user['id']}", json={"jobTitle": NEW_TITLE}), 204)
    assert [(item["id"], item["status"]) for item in moved["objects"]] == [
        (user["id"], "modified")]
    assert moved["objects"][0]["attributes"] == [{
        "name": "jobTitle", "kind": "changed", "before": NEW_TITLE,
        "after": "Chief Restore Officer"}]
    assert {name: c for name, c in moved["counts"].items() if any(c.values())} == {
        "users": {"added": 0, "removed": 0, "modified": 1}}


def test_export_writes_a_verifiable_zip_of_the_latest_snapshot(flow: Flow, cli: Cli,
                                                               tmp_path: Path) -> None:
    target = tmp_path / "out.zip"
    result = cli.json("export", TENANT, "-o", str(target))
    assert result["snapshot"] == flow.second_id
    assert Path(result["path"]) == target
    assert result["partial"] is False
    assert result["types"]["users"] == 59
    assert result["objects"] == flow.second.json()["objects"]
    assert verify_export(target) == []
    users = cli.json("ls", TENANT, "latest", "--type", "users")["objects"]
    with zipfile.ZipFile(target) as archive:
        names = set(archive.namelist())
        assert {f"users/{row['id']}.json" for row in users} == {
            name for name in names if name.startswith("users/")}
        changed = flow.changes.changed_user["id"]
        assert NEW_TITLE in archive.read(f"users/{changed}.json").decode()
    assert f"users/{flow.changes.deleted_user['id']}.json" not in names
    assert [p.name for p in tmp_path.iterdir()] == ["out.zip"]


# --- snapshot references -----------------------------------------------------------------


@pytest.fixture(scope="module")
def crowded(live: LiveEmulator, tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """A home with small backups until two snapshot ids share a first hex digit (at most
    17 by the pigeonhole principle, usually about 5)."""
    cli = Cli.for_home(tmp_path_factory.mktemp("cli-crowded") / "home",
                       {SECRET_VARIABLE: live.client_secret})
    assert cli.run("init").code == 0
    assert cli.run(*tenant_add_args(live, TENANT, SECRET_VARIABLE)).code == 0
    firsts: set[str] = set()
    for _ in range(17):
        done = cli.run("backup", TENANT, "--types", "authorizationPolicy", "--json")
        assert done.code == 0, str(done)
        first = done.json()["snapshot"][0]
        if first in firsts:
            return cli
        firsts.add(first)
    raise AssertionError("17 snapshot ids with distinct first digits")


def test_an_ambiguous_prefix_is_refused_and_a_unique_one_works(crowded: Cli,
                                                               capsys: pytest.CaptureFixture[str]
                                                               ) -> None:
    cli = crowded.with_capsys(capsys)
    ids = [s["id"] for s in cli.json("snapshots", TENANT)]
    shared = next(i[0] for i in ids if sum(other.startswith(i[0]) for other in ids) > 1)
    matching = sum(i.startswith(shared) for i in ids)
    line = assert_one_line_error(cli.run("ls", TENANT, shared, "--json"),
                                 contains=(repr(shared), f"{matching} snapshots"))
    assert "more characters" in line
    assert_one_line_error(cli.run("diff", TENANT, shared, "latest", "--json"),
                          contains=(repr(shared),))
    unique = next(i[:8] for i in ids if sum(other.startswith(i[:8]) for other in ids) == 1)
    chosen = cli.json("ls", TENANT, unique)
    assert chosen["snapshot"].startswith(unique)
    assert [row["type"] for row in chosen["objects"]] == ["authorizationPolicy"]
    assert cli.json("ls", TENANT, "latest")["snapshot"] == ids[-1]


def test_a_prefix_matching_nothing_is_refused(crowded: Cli,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    cli = crowded.with_capsys(capsys)
    ids = [s["id"] for s in cli.json("snapshots", TENANT)]
    absent = next(p for p in (f"{n:04x}" for n in range(1 << 16))
                  if not any(i.startswith(p) for i in ids))
    assert_one_line_error(cli.run("ls", TENANT, absent, "--json"),
                          contains=(repr(absent),))
    assert_one_line_error(cli.run("diff", TENANT, absent, "latest", "--json"),
                          contains=(repr(absent),))
    assert_one_line_error(cli.run("ls", TENANT, "not-hex", "--json"),
                          contains=("'not-hex'",))


# --- repository maintenance (last: reindex rebuilds the catalog) -------------------------


def test_check_then_reindex_keeps_every_answer(flow: Flow, cli: Cli) -> None:
    checked = cli.json("check")
    assert checked["ok"] is True
    assert checked["problems"] == []
    assert checked["snapshots_checked"] == 2
    part = flow.changes.changed_user["displayName"][1:6]
    before = (cli.json("search", TENANT, part), cli.json("search", TENANT, "", "--deleted-only"),
              cli.json("show", TENANT, flow.changes.changed_user["id"])["timeline"])
    assert cli.json("reindex") == {"snapshots": 2, "damaged": 0,
                                         "damaged_objects": []}
    plain = cli.run("reindex")
    assert plain.code == 0, str(plain)
    after = (cli.json("search", TENANT, part), cli.json("search", TENANT, "", "--deleted-only"),
             cli.json("show", TENANT, flow.changes.changed_user["id"])["timeline"])
    assert after == before
    assert len(before[0]) >= 2
