"""``tenant add --keep-*`` and ``tenant edit``: what is stored in the tenant registry, edits
that change nothing, and bad input (one line, registry untouched). Also ``init`` refusing
Object Lock for a local repository. No Graph call is needed: these only write the home."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest_workspace import Cli, assert_one_line_error, weak_passphrase_keys

TENANT = "contoso"
TENANT_ID = "11111111-2222-3333-4444-555555555555"
CLIENT_ID = "66666666-7777-8888-9999-000000000000"


@pytest.fixture(autouse=True)
def _weak_keys() -> Iterator[None]:
    with weak_passphrase_keys():
        yield


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    """An initialised home with one tenant (client secret in a variable, keep-last 3)."""
    cli = Cli.for_home(tmp_path / "home", capsys=capsys)
    for args in (("init",), ("tenant", "add", TENANT, "--tenant-id", TENANT_ID, "--client-id",
                             CLIENT_ID, "--client-secret-env", "CONTOSO_SECRET",
                             "--keep-last", "3")):
        result = cli.run(*args)
        assert result.code == 0, str(result)
    return cli


def _record(cli: Cli) -> dict[str, Any]:
    return {t["name"]: t for t in cli.json("tenant", "list")}[TENANT]


def _registry(cli: Cli) -> bytes:
    return (cli.home / "tenants.json").read_bytes()


def test_add_stores_the_retention_policy(cli: Cli) -> None:
    assert _record(cli)["retention"] == {"keep_last": 3}


def test_show_prints_one_tenant_with_its_policy(cli: Cli) -> None:
    assert cli.json("tenant", "show", TENANT) == _record(cli)
    text = cli.run("tenant", "show", TENANT)
    assert text.code == 0 and "retention: last 3" in text.out, str(text)
    assert_one_line_error(cli.run("tenant", "show", "fabrikam"), 2, contains=("fabrikam",))


def test_edit_merges_retention_rules_and_zero_drops_one(cli: Cli) -> None:
    edited = cli.run("tenant", "edit", TENANT, "--keep-daily", "7", "--keep-within", "2w")
    assert edited.code == 0, str(edited)
    assert "retention" in edited.out
    assert _record(cli)["retention"] == {"keep_last": 3, "keep_daily": 7, "keep_within": "14d"}
    assert cli.run("tenant", "edit", TENANT, "--keep-last", "0").code == 0
    assert _record(cli)["retention"] == {"keep_daily": 7, "keep_within": "14d"}
    assert cli.run("tenant", "edit", TENANT, "--keep-all").code == 0
    assert _record(cli)["retention"] == {}


def test_edit_changes_scope_and_connection(cli: Cli, tmp_path: Path) -> None:
    certificate = tmp_path / "app.pem"
    certificate.write_text("not checked until sign-in\n")
    edited = cli.run("tenant", "edit", TENANT, "--types", "users,groups", "--certificate",
                     str(certificate), "--graph-url", "https://graph.example.test/v1.0")
    assert edited.code == 0, str(edited)
    record = _record(cli)
    assert record["scope"]["types"] == ["users", "groups"]
    assert record["certificate"] == str(certificate.resolve())
    assert record["secret_env"] is None, "one credential at a time"
    assert record["graph_url"] == "https://graph.example.test/v1.0"
    assert cli.run("tenant", "edit", TENANT, "--client-secret-env", "NEW_SECRET").code == 0
    record = _record(cli)
    assert (record["secret_env"], record["certificate"]) == ("NEW_SECRET", None)
    assert cli.run("tenant", "edit", TENANT, "--types", "all").code == 0
    assert _record(cli)["scope"]["types"] == []


def test_an_edit_that_changes_nothing_says_so(cli: Cli) -> None:
    before = _registry(cli)
    for args in (("--keep-last", "3"), ("--client-secret-env", "CONTOSO_SECRET"), ()):
        result = cli.run("tenant", "edit", TENANT, *args)
        assert result.code == 0, str(result)
        assert "Nothing to change" in result.out
    assert _registry(cli) == before


@pytest.mark.parametrize(("args", "contains"), [
    (("tenant", "edit", "fabrikam", "--keep-last", "1"), "no tenant named 'fabrikam'"),
    (("tenant", "edit", TENANT, "--keep-within", "soon"), "not a duration"),
    (("tenant", "edit", TENANT, "--keep-weekly", "-2"), "cannot be negative"),
    (("tenant", "edit", TENANT, "--keep-all", "--keep-last", "1"), "not both"),
    (("tenant", "edit", TENANT, "--types", "printers"), "unknown object type"),
    (("tenant", "edit", TENANT, "--ca-bundle", "/nonexistent/ca.pem"), "does not exist"),
    (("tenant", "edit", TENANT, "--certificate", "/nonexistent/a.pem",
      "--client-secret-env", "X"), "at most one"),
    (("tenant", "add", "other", "--tenant-id", TENANT_ID, "--client-id", CLIENT_ID,
      "--client-secret-env", "S", "--keep-within", "1 year"), "not a duration"),
    (("tenant", "remove", "fabrikam"), "no tenant named 'fabrikam'"),
])
def test_bad_tenant_input_is_one_line_and_changes_nothing(
        cli: Cli, args: tuple[str, ...], contains: str) -> None:
    before = _registry(cli)
    line = assert_one_line_error(cli.run(*args), 2)
    assert contains.lower() in line.lower(), line
    assert _registry(cli) == before


@pytest.mark.parametrize(("args", "option"), [
    (("tenant", "edit", TENANT, "--member-of", f"{TENANT_ID},x?$select=a"), "--member-of"),
    (("tenant", "edit", TENANT, "--groups", "../servicePrincipals"), "--groups"),
    (("tenant", "add", "other", "--tenant-id", TENANT_ID, "--client-id", CLIENT_ID,
      "--client-secret-env", "S", "--users", "alice@contoso.com"), "--users"),
])
def test_a_scope_id_that_is_no_guid_is_refused(cli: Cli, args: tuple[str, ...],
                                               option: str) -> None:
    """member_of groups are read at /groups/{id}/members: a malformed id is refused when
    it is given (exit 37), not when a backup puts it into a path."""
    before = _registry(cli)
    line = assert_one_line_error(cli.run(*args), 37)
    assert f" in {option}: expected a GUID" in line, line
    assert _registry(cli) == before


def test_scope_ids_that_are_guids_are_stored(cli: Cli) -> None:
    edited = cli.run("tenant", "edit", TENANT, "--member-of", TENANT_ID.upper(),
                     "--users", f"{CLIENT_ID}, {TENANT_ID}")
    assert edited.code == 0, str(edited)
    scope = _record(cli)["scope"]
    assert scope["member_of"] == [TENANT_ID.upper()]
    assert scope["user_ids"] == sorted([CLIENT_ID, TENANT_ID])


def test_an_edit_to_a_plain_http_graph_url_is_refused(cli: Cli) -> None:
    before = _registry(cli)
    assert_one_line_error(cli.run("tenant", "edit", TENANT, "--graph-url",
                                  "http://graph.example.test/v1.0"), 3, contains=("https",))
    assert _registry(cli) == before


def test_init_refuses_object_lock_for_a_local_repository(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    cli = Cli.for_home(tmp_path / "home", capsys=capsys)
    for args in (("--object-lock-days", "30"), ("--object-lock-mode", "compliance"),
                 ("--object-lock-days", "0", "--repo", "s3://bucket/prefix"),
                 ("--object-lock-days", "3", "--object-lock-mode", "forever",
                  "--repo", "s3://bucket/prefix")):
        assert_one_line_error(cli.run("init", *args), 2)
        assert not (cli.home / "config.toml").exists()
