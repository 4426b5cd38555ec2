"""Mistakes a user makes, end to end against the emulator over HTTPS: each ends with one
line naming the problem on stderr, a non-zero exit code, and nothing half-written."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

from entra_backup.config import PASSPHRASE_VARIABLE
from entra_backup.domain.object_types import TYPES
from entra_backup.graph import transport
from tests.cli.conftest_workspace import (
    WARNING,
    Cli,
    assert_one_line_error,
    closed_port,
    tenant_add_args,
    tree,
    weak_passphrase_keys,
)
from tests.support.live_emulator import LiveEmulator

TENANT = "fabrikam"
SECRET_VARIABLE = "FABRIKAM_SECRET"
ALL_TYPES = {t.name for t in TYPES}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveEmulator]:
    with LiveEmulator.running(tmp_path_factory.mktemp("bad-input-emulator"), users=20,
                                  seed=4, throttle="off") as emulator:
        yield emulator


@pytest.fixture(scope="module", autouse=True)
def _weak_keys() -> Iterator[None]:
    with weak_passphrase_keys():
        yield


@pytest.fixture(scope="module")
def workspace(live: LiveEmulator, tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """An initialised home with the tenant registered and backed up once."""
    cli = Cli.for_home(tmp_path_factory.mktemp("bad-input") / "home",
                       {SECRET_VARIABLE: live.client_secret})
    for args in (["init"], tenant_add_args(live, TENANT, SECRET_VARIABLE),
                 ["backup", TENANT, "--json"]):
        result = cli.run(*args)
        assert result.code == 0, str(result)
    return cli


@pytest.fixture
def cli(workspace: Cli, capsys: pytest.CaptureFixture[str]) -> Cli:
    return workspace.with_capsys(capsys)


def _snapshot_ids(cli: Cli, tenant: str = TENANT) -> list[str]:
    return [s["id"] for s in cli.json("snapshots", tenant)]


# --- credentials and registration --------------------------------------------------------


def test_a_wrong_client_secret_is_named_and_backs_nothing_up(cli: Cli,
                                                             live: LiveEmulator) -> None:
    wrong = cli.with_env(WRONG_SECRET="not-the-secret-value")
    assert wrong.run(*tenant_add_args(live, "wrong-secret", "WRONG_SECRET")).code == 0
    for command in (["backup", "wrong-secret", "--json"],
                    ["tenant", "check", "wrong-secret", "--json"]):
        assert_one_line_error(wrong.run(*command), 5, contains=("AADSTS7000215",))
    assert _snapshot_ids(wrong, "wrong-secret") == []


def test_an_unset_secret_variable_is_named(cli: Cli, live: LiveEmulator) -> None:
    assert cli.run(*tenant_add_args(live, "no-secret", "UNSET_SECRET_VARIABLE")).code == 0
    unset = cli.with_env(UNSET_SECRET_VARIABLE=None)
    assert_one_line_error(unset.run("backup", "no-secret", "--json"), 3,
                          contains=("UNSET_SECRET_VARIABLE",))
    assert _snapshot_ids(unset, "no-secret") == []


@pytest.mark.parametrize("tenant_id", ["fe76ae09-98bb-42a3-b1a7-70c76dd478dx",
                                       "contoso..onmicrosoft", "contoso onmicrosoft.com"])
def test_a_tenant_id_with_a_typo_is_refused_by_tenant_add(cli: Cli, live: LiveEmulator,
                                                          tenant_id: str) -> None:
    registry = cli.home / "tenants.json"
    before = registry.read_bytes()
    result = cli.run(*tenant_add_args(live, "typo", SECRET_VARIABLE, tenant_id=tenant_id))
    assert_one_line_error(result, 2, contains=("--tenant-id", repr(tenant_id)))
    assert registry.read_bytes() == before
    assert "typo" not in {t["name"] for t in cli.json("tenant", "list")}


def test_an_unknown_tenant_name_is_refused_naming_the_known_ones(cli: Cli) -> None:
    line = assert_one_line_error(cli.run("backup", "nosuch", "--json"), 2,
                                 contains=("'nosuch'", TENANT, "tenant add"))
    assert "registered" in line


# --- the repository ----------------------------------------------------------------------


def test_a_wrong_passphrase_is_refused_and_leaves_the_repository_untouched(cli: Cli) -> None:
    snapshots = _snapshot_ids(cli)
    files = tree(cli.home / "repository")
    wrong = cli.with_env(**{PASSPHRASE_VARIABLE: "not the passphrase"})
    assert_one_line_error(wrong.run("backup", TENANT, "--json"), 21,
                          contains=("wrong passphrase",))
    assert_one_line_error(wrong.run("snapshots", TENANT, "--json"), 21)
    assert tree(cli.home / "repository") == files
    assert _snapshot_ids(cli) == snapshots


def test_a_missing_passphrase_names_where_to_give_it(cli: Cli) -> None:
    files = tree(cli.home / "repository")
    missing = cli.with_env(**{PASSPHRASE_VARIABLE: None})
    for command in (["backup", TENANT, "--json"], ["ls", TENANT, "latest", "--json"]):
        assert_one_line_error(missing.run(*command), 3,
                              contains=(PASSPHRASE_VARIABLE, "--passphrase-file"))
    assert tree(cli.home / "repository") == files


def test_init_twice_in_the_same_home_is_refused_and_changes_nothing(cli: Cli) -> None:
    config = (cli.home / "config.toml").read_bytes()
    files = tree(cli.home / "repository")
    assert_one_line_error(cli.run("init", "--json"), 2, contains=("exists already",))
    assert (cli.home / "config.toml").read_bytes() == config
    assert tree(cli.home / "repository") == files
    assert _snapshot_ids(cli)


# --- permissions and reachability --------------------------------------------------------


def test_a_missing_permission_is_named_and_the_backup_is_partial(cli: Cli,
                                                                 live: LiveEmulator) -> None:
    granted = sorted({t.read_permission for t in TYPES} - {"Device.Read.All"})
    app = live.control("POST", "/apps", {"permissions": granted})
    limited = cli.with_env(LIMITED_SECRET=app["client_secret"])
    assert limited.run(*tenant_add_args(live, "limited", "LIMITED_SECRET",
                                        client_id=app["client_id"])).code == 0

    check = limited.run("tenant", "check", "limited", "--json")
    assert check.code != 0, str(check)
    report = check.json()
    assert report["missing"] == ["Device.Read.All"]
    assert {t["type"] for t in report["types"] if not t["granted"]} == {"devices"}
    assert len(check.err_lines) == 1 and "Device.Read.All" in check.err_lines[0], str(check)
    plain = limited.run("tenant", "check", "limited")
    assert plain.code != 0 and "Device.Read.All" in plain.out, str(plain)

    backup = limited.run("backup", "limited", "--json")
    assert backup.code == 1, str(backup)
    assert "Traceback" not in backup.err
    assert len(backup.err_lines) == 1, str(backup)
    assert backup.err_lines[0].startswith(WARNING)
    assert "partial" in backup.err_lines[0] and "Device.Read.All" in backup.err_lines[0]
    summary = backup.json()
    statuses = {t["type"]: t["status"] for t in summary["types"]}
    assert statuses == {**dict.fromkeys(ALL_TYPES, "ok"), "devices": "skipped"}
    assert {t["type"]: t["objects"] for t in summary["types"]}["users"] == 20
    assert summary["partial"] is True

    (snapshot,) = limited.json("snapshots", "limited")
    assert snapshot["id"] == summary["snapshot"]
    assert snapshot["partial"] is True
    assert snapshot["types"]["devices"]["status"] == "skipped"
    assert "Device.Read.All" in snapshot["types"]["devices"]["message"]
    assert snapshot["types"]["users"] == {"status": "ok", "count": 20, "message": None}


def test_an_unreachable_token_service_is_a_clear_error(cli: Cli, live: LiveEmulator) -> None:
    port = closed_port()
    assert cli.run(*tenant_add_args(
        live, "closed", SECRET_VARIABLE, authority=f"https://127.0.0.1:{port}/{live.tenant_id}",
        graph_url=f"https://127.0.0.1:{port}/v1.0")).code == 0
    assert_one_line_error(cli.run("backup", "closed", "--json"), 4,
                          contains=("Cannot reach", f"127.0.0.1:{port}"))
    assert _snapshot_ids(cli, "closed") == []


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry a refused connection after milliseconds, not the production 1 s, 2 s, ..."""
    monkeypatch.setattr(transport, "RetryPolicy",
                        functools.partial(transport.RetryPolicy, base_delay=0.01,
                                          max_delay=0.02))


@pytest.fixture
def graph_closed(cli: Cli, live: LiveEmulator, quick_retries: None) -> tuple[str, int]:
    """A tenant whose sign-in works but whose Graph URL is a closed port."""
    port = closed_port()
    name = f"graph-closed-{port}"
    assert cli.run(*tenant_add_args(live, name, SECRET_VARIABLE,
                                    graph_url=f"https://127.0.0.1:{port}/v1.0")).code == 0
    return name, port


def test_an_unreachable_graph_url_is_named(cli: Cli, graph_closed: tuple[str, int]) -> None:
    name, port = graph_closed
    result = cli.run("backup", name, "--types", "users,groups", "--json")
    assert result.code != 0, str(result)
    assert "Traceback" not in result.err
    assert len(result.err_lines) == 1, str(result)
    line = result.err_lines[0]
    assert line.startswith(("entra-backup: error: ", WARNING)), line
    assert f"Cannot reach Graph at https://127.0.0.1:{port}" in line
    assert "Check the Graph URL" in line


def test_an_unreachable_graph_url_records_no_snapshot(cli: Cli,
                                                      graph_closed: tuple[str, int]) -> None:
    name, _ = graph_closed
    assert cli.run("backup", name, "--types", "users,groups", "--json").code != 0
    assert _snapshot_ids(cli, name) == []


# --- browsing and exporting --------------------------------------------------------------


def test_an_export_into_a_missing_directory_fails_and_writes_nothing(cli: Cli,
                                                                     tmp_path: Path) -> None:
    target = tmp_path / "missing" / "out.zip"
    assert_one_line_error(cli.run("export", TENANT, "-o", str(target), "--json"), 13,
                          contains=(str(target.parent), "does not exist"))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("args", "code", "contains"), [
    (["ls", TENANT, "latest", "--type", "userz"], 2, ("'userz'", "users", "groups")),
    (["search", TENANT, "x", "--type", "userz"], 2, ("'userz'",)),
    (["show", TENANT, "00000000-0000-0000-0000-000000000000"], 23,
     ("'00000000-0000-0000-0000-000000000000'",)),
    (["show", TENANT, "no-such-object"], 23, ("'no-such-object'",)),
    (["search", TENANT, "a", "--from", "notadate"], 2, ("--from", "'notadate'")),
    (["search", TENANT, "a", "--to", "31/01/2026"], 2, ("--to", "'31/01/2026'")),
])
def test_bad_browse_arguments_get_one_line(cli: Cli, args: list[str], code: int,
                                           contains: tuple[str, ...]) -> None:
    assert_one_line_error(cli.run(*args, "--json"), code, contains=contains)
