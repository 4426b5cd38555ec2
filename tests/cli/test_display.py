"""What a person sees: empty results said in words, whole ids in narrow terminals, counts
in the singular when there is one, and a backup summary with its figures.

One module-scoped emulator (30 users) and one home folder with two backups of users and
groups and nothing changed in between, so every diff is empty.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from entra_backup.cli.render import duration, elapsed, plural, rate
from tests.cli.conftest_workspace import Cli, Result, tenant_add_args, weak_passphrase_keys
from tests.support.live_emulator import LiveEmulator

TENANT = "fabrikam"
SECRET_VARIABLE = "FABRIKAM_BACKUP_SECRET"
TYPES = "users,groups"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveEmulator]:
    with LiveEmulator.running(tmp_path_factory.mktemp("display-emulator"), users=30,
                                  seed=5, throttle="off") as emulator:
        yield emulator


@pytest.fixture(scope="module", autouse=True)
def _weak_keys() -> Iterator[None]:
    with weak_passphrase_keys():
        yield


@dataclass(frozen=True)
class Home:
    cli: Cli
    empty_snapshots: Result
    first: Result
    checked_one: Result
    second: Result
    nothing_to_restore: Result

    @property
    def first_id(self) -> str:
        return str(self.first.json()["snapshot"])

    @property
    def second_id(self) -> str:
        return str(self.second.json()["snapshot"])


@pytest.fixture(scope="module")
def home(live: LiveEmulator, tmp_path_factory: pytest.TempPathFactory) -> Home:
    cli = Cli.for_home(tmp_path_factory.mktemp("display-home") / "home",
                       {SECRET_VARIABLE: live.client_secret})
    assert cli.run("init").code == 0
    assert cli.run(*tenant_add_args(live, TENANT, SECRET_VARIABLE)).code == 0
    empty = cli.run("snapshots", TENANT)
    first = cli.run("backup", TENANT, "--types", TYPES, "--json")
    checked_one = cli.run("check")
    second = cli.run("backup", TENANT, "--types", TYPES, "--json")
    assert first.code == 0 and second.code == 0, (str(first), str(second))
    dry_run = cli.run("restore", TENANT, "--snapshot", "latest", "--type", "users",
                      "--type", "groups", "--dry-run")
    return Home(cli, empty, first, checked_one, second, dry_run)


@pytest.fixture
def cli(home: Home, capsys: pytest.CaptureFixture[str]) -> Cli:
    return home.cli.with_capsys(capsys)


# --- the helpers -------------------------------------------------------------------------


def test_plural_uses_the_singular_for_one_only() -> None:
    assert plural(1, "object") == "1 object"
    assert plural(0, "object") == "0 objects"
    assert plural(1234, "object") == "1,234 objects"
    assert plural(2, "policy") == "2 policies"


def test_duration_never_says_zero_seconds() -> None:
    assert duration(0) == "under 1 s"
    assert duration(0.4) == "under 1 s"
    assert duration(42) == "42 s"
    assert duration(185) == "3 min 5 s"
    assert duration(7800) == "2 h 10 min"


def test_a_measured_time_is_short_and_never_zero() -> None:
    assert elapsed(0.01) == "<0.1 s"
    assert elapsed(0.44) == "0.4 s"
    assert elapsed(42) == "42 s"


def test_a_rate_appears_only_once_there_is_one() -> None:
    assert rate(0, 5) == ""
    assert rate(10, 0) == ""
    assert rate(500, 2, "objects/s") == "250 objects/s"
    assert rate(3, 2) == "1.5/s"


# --- empty results -----------------------------------------------------------------------


def test_snapshots_of_a_tenant_without_any_say_how_to_make_one(home: Home, cli: Cli) -> None:
    assert home.empty_snapshots.code == 0, str(home.empty_snapshots)
    assert home.empty_snapshots.out.strip() == (
        f"No snapshots of tenant '{TENANT}' yet; run 'entra-backup backup {TENANT}'.")


def test_search_without_a_match_says_so_and_its_json_is_an_empty_list(cli: Cli) -> None:
    result = cli.run("search", TENANT, "no-such-person-anywhere")
    assert result.code == 0, str(result)
    assert result.out.strip() == "No match for 'no-such-person-anywhere'."
    assert cli.json("search", TENANT, "no-such-person-anywhere") == []


def test_ls_of_a_type_the_snapshot_holds_none_of_says_so(home: Home, cli: Cli) -> None:
    result = cli.run("ls", TENANT, "latest", "--type", "applications")
    assert result.code == 0, str(result)
    assert result.out.strip() == (
        f"No objects of type 'applications' in snapshot {home.second_id[:8]}.")
    listed = cli.json("ls", TENANT, "latest", "--type", "applications")
    assert listed == {"snapshot": home.second_id, "objects": []}


def test_diff_of_two_equal_snapshots_says_there_is_no_difference(home: Home, cli: Cli) -> None:
    result = cli.run("diff", TENANT, home.first_id, home.second_id)
    assert result.code == 0, str(result)
    assert result.out.strip() == (f"No differences between snapshot {home.first_id[:8]} "
                                  f"and snapshot {home.second_id[:8]}.")
    assert cli.json("diff", TENANT, home.first_id, home.second_id)["objects"] == []


def test_diff_against_an_unchanged_live_tenant_says_so(home: Home, cli: Cli) -> None:
    result = cli.run("diff", TENANT, home.second_id, "live", "--type", "users")
    assert result.code == 0, str(result)
    assert result.out.strip() == (f"No differences between snapshot {home.second_id[:8]} "
                                  "and the live tenant.")


def test_check_of_one_snapshot_speaks_in_the_singular(home: Home) -> None:
    result = home.checked_one
    assert result.code == 0, str(result)
    assert result.out.startswith("Checked 1 snapshot, read "), result.out
    assert "snapshot(s)" not in result.out and "pack(s)" not in result.out


def test_a_restore_with_nothing_to_do_says_so_and_never_at_least_0_s(home: Home) -> None:
    result = home.nothing_to_restore
    assert result.code == 0, str(result)
    words = " ".join(result.out.split())
    assert "Nothing to restore: the tenant matches the snapshot" in words, result.out
    assert "at least 0 s" not in words


# --- widths ------------------------------------------------------------------------------


def test_a_narrow_terminal_never_cuts_the_ids_of_tenant_list(cli: Cli,
                                                             live: LiveEmulator) -> None:
    result = cli.with_env(COLUMNS="60").run("tenant", "list")
    assert result.code == 0, str(result)
    assert live.tenant_id in result.out and live.client_id in result.out, result.out
    assert "…" not in result.out


def test_a_narrow_terminal_never_cuts_the_ids_of_snapshots(home: Home, cli: Cli) -> None:
    result = cli.with_env(COLUMNS="40").run("snapshots", TENANT)
    assert result.code == 0, str(result)
    assert home.first_id[:8] in result.out and home.second_id[:8] in result.out
    assert "…" not in result.out


# --- the backup summary ------------------------------------------------------------------


def _types(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["type"]: item for item in summary["types"]}


def test_the_first_backup_counts_every_object_as_added_with_its_relationships(
        home: Home) -> None:
    summary = home.first.json()
    assert summary["added"] == summary["objects"] > 30
    assert summary["modified"] == summary["removed"] == 0
    assert summary["relationships"] > 0
    assert summary["objects_per_second"] > 0
    for item in summary["types"]:
        assert item["added"] == item["objects"], item
        assert item["seconds"] > 0, item
    # The groups hold their members, so that type has edges.
    assert _types(summary)["groups"]["relationships"] > 0


def test_an_unchanged_delta_backup_keeps_the_counts_and_adds_nothing(home: Home) -> None:
    first, second = home.first.json(), home.second.json()
    assert {item["mode"] for item in second["types"]} == {"delta"}
    assert second["added"] == second["modified"] == second["removed"] == 0
    assert second["objects"] == first["objects"]
    # Carried over from the first snapshot's record: the edges did not change.
    assert second["relationships"] == first["relationships"]


def test_a_delta_backup_counts_an_added_user_and_its_membership(home: Home, cli: Cli,
                                                                live: LiveEmulator) -> None:
    with live.http() as graph:
        someone = graph.get("users", params={"$select": "userPrincipalName", "$top": "1"}
                            ).json()["value"][0]
        domain = str(someone["userPrincipalName"]).split("@", 1)[1]
        created = graph.post("users", json={
            "accountEnabled": True, "displayName": "Display Tester",
            "mailNickname": "display.tester", "userPrincipalName": f"display.tester@{domain}",
            "passwordProfile": {"password": "Display-Passw0rd-2026!",
                                "forceChangePasswordNextSignIn": True}}).json()
        groups = graph.get("groups", params={
            "$select": "id,groupTypes,securityEnabled,onPremisesSyncEnabled,membershipRule"}
        ).json()["value"]
        group = next(g for g in groups if g.get("onPremisesSyncEnabled") is not True
                     and not g.get("membershipRule") and g["securityEnabled"])
        added = graph.post(f"groups/{group['id']}/members/$ref", json={
            "@odata.id": f"{live.graph_url}/directoryObjects/{created['id']}"})
        assert added.status_code == 204, added.text
    before = home.second.json()
    result = cli.run("backup", TENANT, "--types", TYPES)
    assert result.code == 0, str(result)
    summary = cli.json("snapshots", TENANT)[-1]
    assert summary["objects"] == before["objects"] + 1
    lines = result.out
    assert "1 added, 1 modified, 0 removed" in lines, lines
    assert f"holds {before['objects'] + 1:,} objects and " \
           f"{before['relationships'] + 1:,} relationships" in lines, lines
    assert "objects/s" in lines and not re.search(r"(?<![\d,])1 objects", lines)
    assert "Graph returned" in lines


def test_progress_shows_no_zero_counts_or_empty_rates(cli: Cli) -> None:
    result = cli.run("backup", TENANT, "--types", TYPES)
    assert result.code == 0, str(result)
    bars = [line for line in result.err.splitlines() if line.strip()]
    assert {line.split()[0] for line in bars} == {"users", "groups"}, result.err
    for line in bars:
        assert " 0 read" not in line and " /s" not in line, line
    assert not re.search(r"(?<![\d,])1 objects", result.out)
    assert "at least 0 s" not in result.out


def test_diff_of_an_object_without_other_versions_says_so(home: Home, cli: Cli) -> None:
    listed = cli.json("ls", TENANT, home.first_id, "--type", "groups")["objects"]
    unchanged = listed[-1]["id"]
    result = cli.run("diff", TENANT, home.first_id, "--object", unchanged)
    assert result.code == 0, str(result)
    versions = cli.json("diff", TENANT, home.first_id, "--object", unchanged)
    if versions["differing_versions"]:
        pytest.skip("the last group changed in an earlier test")
    assert result.out.strip() == (f"No other version of object {unchanged} differs from "
                                  "this one.")


def test_the_edges_a_delta_run_counts_match_a_full_read(cli: Cli, live: LiveEmulator) -> None:
    with live.http() as graph:
        users = graph.get("users", params={"$select": "id,onPremisesSyncEnabled"}
                          ).json()["value"]
        leaving = next(u for u in users if u.get("onPremisesSyncEnabled") is not True)
        assert graph.delete(f"users/{leaving['id']}").status_code == 204
    by_delta = cli.json("backup", TENANT, "--types", TYPES)
    by_full = cli.json("backup", TENANT, "--types", TYPES, "--full")
    assert {item["mode"] for item in by_delta["types"]} == {"delta"}
    assert by_delta["removed"] == 1
    assert _types(by_delta)["users"]["relationships"] == \
        _types(by_full)["users"]["relationships"]
    assert by_delta["relationships"] == by_full["relationships"]
