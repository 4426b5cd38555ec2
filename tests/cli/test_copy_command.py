"""``copy --to-home``: a tenant backed up from the emulator, copied into a repository made
with ``init`` under another passphrase (a new master key), verifies there with ``check
--read-data``, lists the same snapshots, and backs up on from the copied delta state."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from entra_backup.config import PASSPHRASE_VARIABLE
from tests.cli.conftest_workspace import (
    Cli,
    assert_one_line_error,
    tenant_add_args,
    weak_passphrase_keys,
)
from tests.support.live_emulator import LiveEmulator

TENANT = "contoso"
SECRET_VARIABLE = "CONTOSO_SECRET"
NEW_PASSPHRASE = "the new repository's own passphrase"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveEmulator]:
    with LiveEmulator.running(tmp_path_factory.mktemp("copy-emulator"), users=6, seed=7,
                              throttle="off") as emulator:
        yield emulator


@pytest.fixture(scope="module", autouse=True)
def _weak_keys() -> Iterator[None]:
    with weak_passphrase_keys():
        yield


def _view(cli: Cli) -> list[tuple[str, int]]:
    return [(item["time"], item["objects"]) for item in cli.json("snapshots", TENANT)]


def test_copy_moves_the_backups_under_a_new_master_key(
        live: LiveEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secrets = {SECRET_VARIABLE: live.client_secret, "NEW_SECRET": NEW_PASSPHRASE}
    old = Cli.for_home(tmp_path / "old", secrets, capsys)
    for args in (["init"], tenant_add_args(live, TENANT, SECRET_VARIABLE),
                 ["backup", TENANT, "--json"], ["backup", TENANT, "--json"]):
        result = old.run(*args)
        assert result.code == 0, str(result)
    new = Cli.for_home(tmp_path / "new", secrets, capsys).with_env(
        **{PASSPHRASE_VARIABLE: NEW_PASSPHRASE})
    assert new.run("init").code == 0

    copied = old.json("copy", "--to-home", str(new.home), "--to-passphrase-env", "NEW_SECRET")
    assert copied["tenants_registered"] == [TENANT]
    assert [item["existed"] for item in copied["snapshots"]] == [False, False]
    assert copied["destination"] != copied["source"]
    verified = new.json("check", "--read-data")
    assert verified["ok"] and verified["packs_read"] > 0
    assert _view(new) == _view(old)
    assert_one_line_error(new.with_env(**{PASSPHRASE_VARIABLE: old.env[PASSPHRASE_VARIABLE]})
                          .run("snapshots", TENANT), 21)

    again = old.json("copy", "--to-home", str(new.home), "--to-passphrase-env", "NEW_SECRET")
    assert [item["existed"] for item in again["snapshots"]] == [True, True]
    after = new.run("backup", TENANT, "--json")
    assert after.code == 0, str(after)
    assert len(_view(new)) == 3


def test_copy_refuses_its_own_home_and_a_missing_destination(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli = Cli.for_home(tmp_path / "home", capsys=capsys)
    assert cli.run("init").code == 0
    assert_one_line_error(cli.run("copy", "--to-home", str(cli.home)), 2,
                          contains=("this home",))
    assert_one_line_error(cli.run("copy", "--to-home", str(tmp_path / "nowhere")), 3,
                          contains=("init",))
