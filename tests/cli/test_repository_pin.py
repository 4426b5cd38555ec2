"""Someone who can write the repository, end to end through the CLI.

Each test backs a tenant up from the emulator over HTTPS into a home of its own, attacks
the repository folder the way a holder of bucket write access could (delete the newest
snapshot, swap in another repository, slip in a key slot of their own with a forged
snapshot, add a key file with absurd KDF parameters), and checks that the next command
refuses with one line naming what happened and how to recover, and that the recovery
path (``--accept-missing-snapshots``, ``pin``) works.
"""

from __future__ import annotations

import base64
import json
import shutil
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from entra_backup.bootstrap import Workspace
from entra_backup.config import PASSPHRASE_VARIABLE
from entra_backup.store.backends.local import LocalBackend
from entra_backup.store.crypto import RepositoryKeys
from entra_backup.store.files import SNAPSHOT_PREFIX
from entra_backup.store.keys import master
from entra_backup.store.keys.passphrase import WEAK_FOR_TESTS, PassphraseKeyProvider
from entra_backup.store.repository import Repository
from tests.cli.conftest_workspace import (
    PASSPHRASE,
    WARNING,
    Cli,
    assert_one_line_error,
    tenant_add_args,
    weak_passphrase_keys,
)
from tests.support.live_emulator import LiveEmulator

TENANT = "contoso"
SECRET_VARIABLE = "CONTOSO_SECRET"
ROLLED_BACK, SWAPPED, KEYS_CHANGED, KDF_TOO_COSTLY = 31, 32, 33, 34


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveEmulator]:
    with LiveEmulator.running(tmp_path_factory.mktemp("pin-emulator"), users=6, seed=5,
                                  throttle="off") as emulator:
        yield emulator


@pytest.fixture(scope="module", autouse=True)
def _weak_keys() -> Iterator[None]:
    with weak_passphrase_keys():
        yield


def _home(live: LiveEmulator, folder: Path, backups: int = 2) -> Cli:
    cli = Cli.for_home(folder / "home", {SECRET_VARIABLE: live.client_secret})
    for args in (["init"], tenant_add_args(live, TENANT, SECRET_VARIABLE),
                 *([["backup", TENANT, "--json"]] * backups)):
        result = cli.run(*args)
        assert result.code == 0, str(result)
    return cli


def _snapshot_ids(cli: Cli) -> list[str]:
    return [item["id"] for item in cli.json("snapshots", TENANT)]


def _repository(cli: Cli) -> Path:
    return cli.home / "repository"


def test_init_pins_the_repository_id_and_key_set(live: LiveEmulator, tmp_path: Path) -> None:
    cli = Cli.for_home(tmp_path / "home")
    created = cli.json("init")
    pin = tomllib.loads((cli.home / "config.toml").read_text())["pin"]
    assert pin["repository_id"] == created["id"]
    assert pin["key_set"] == master.key_set_fingerprint(LocalBackend(_repository(cli)))


def test_deleting_the_newest_snapshot_is_refused_until_accepted(
    live: LiveEmulator, tmp_path: Path
) -> None:
    cli = _home(live, tmp_path)
    older, newer = _snapshot_ids(cli)
    (_repository(cli) / (SNAPSHOT_PREFIX + newer)).unlink()  # one DELETE in the bucket

    restore = ["restore", TENANT, "--snapshot", "latest", "--dry-run"]
    for args in (["snapshots", TENANT], ["backup", TENANT], restore):
        line = assert_one_line_error(cli.run(*args), ROLLED_BACK,
                                     contains=(newer[:8], TENANT, "--accept-missing-snapshots"))
        assert older[:8] not in line
    report = cli.run("check", "--json")
    assert report.code != 0
    assert any(problem.startswith(f"snapshot-missing: {newer}")
               for problem in report.json()["problems"]), str(report)

    accepted = cli.run("--accept-missing-snapshots", "snapshots", TENANT, "--json")
    assert accepted.code == 0, str(accepted)
    assert [item["id"] for item in accepted.json()] == [older]
    assert accepted.err.startswith(WARNING) and newer[:8] in accepted.err
    assert _snapshot_ids(cli) == [older]  # accepted once, not asked again


def test_forget_in_this_home_is_no_rollback(live: LiveEmulator, tmp_path: Path) -> None:
    cli = _home(live, tmp_path)
    _, newer = _snapshot_ids(cli)
    result = cli.run("forget", TENANT, "--keep-last", "1", "--json")
    assert result.code == 0, str(result)
    assert _snapshot_ids(cli) == [newer]


def test_a_remembered_snapshot_that_no_longer_authenticates_is_refused(
    live: LiveEmulator, tmp_path: Path
) -> None:
    cli = _home(live, tmp_path)
    _, newer = _snapshot_ids(cli)
    path = _repository(cli) / (SNAPSHOT_PREFIX + newer)
    path.chmod(0o600)
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))
    assert_one_line_error(cli.run("snapshots", TENANT), ROLLED_BACK,
                          contains=(newer[:8], "no longer authenticates"))


def test_a_swapped_repository_is_refused_and_pin_accepts_it(
    live: LiveEmulator, tmp_path: Path
) -> None:
    cli = _home(live, tmp_path / "a")
    other = _home(live, tmp_path / "b", backups=1)
    shutil.rmtree(_repository(cli))
    shutil.copytree(_repository(other), _repository(cli))

    line = assert_one_line_error(cli.run("snapshots", TENANT), SWAPPED,
                                 contains=("is not the one this home was set up with", "pin"))
    assert str(_repository(cli).resolve()) in line
    pinned = cli.json("pin")
    assert pinned["changed"] is True
    assert pinned["id"] == tomllib.loads((other.home / "config.toml").read_text()
                                         )["pin"]["repository_id"]
    assert pinned["id"] != pinned["previous"]["id"]
    assert _snapshot_ids(cli) == _snapshot_ids(other)


def _forge_takeover(repository: Path) -> str:
    """The attack a key slot allows: a master key of the attacker's own, wrapped for the
    home's key provider (with KMS, ``kms:Encrypt`` is all it takes; the test passphrase
    stands in for it), in a key file named to be tried first, a config MACed with it, and a
    snapshot with a group membership of the attacker's choosing."""
    backend = LocalBackend(repository)
    config, _ = Repository.read_config(backend)
    stolen_id = master.new_master_key()
    provider = PassphraseKeyProvider(PASSPHRASE, params=WEAK_FOR_TESTS)
    document = {"version": 1, "kind": provider.kind, "created": "2026-01-01T00:00:00+00:00",
                "wrapped": base64.b64encode(provider.wrap(stolen_id, context=config.repo_id))
                .decode()}
    backend.create(master.KEYS_PREFIX + "0" * 32, json.dumps(document).encode())
    (repository / "config").chmod(0o600)
    (repository / "config").write_bytes(
        config.encode(RepositoryKeys.derive(stolen_id, config.repo_id)))
    forged = Repository.open(backend, provider)
    with forged.writer(TENANT, parent=None) as writer:
        writer.add("groups", "global-admins", {"id": "global-admins", "members": ["mallory"]})
        return writer.commit().id


def test_a_key_slot_added_behind_the_homes_back_is_refused(
    live: LiveEmulator, tmp_path: Path
) -> None:
    cli = _home(live, tmp_path)
    _forge_takeover(_repository(cli))
    assert_one_line_error(cli.run("snapshots", TENANT), KEYS_CHANGED,
                          contains=("key files", "pin"))


def test_an_unpinned_home_still_notices_the_takeover(live: LiveEmulator, tmp_path: Path) -> None:
    cli = _home(live, tmp_path)
    genuine = _snapshot_ids(cli)
    _unpin(cli)
    _forge_takeover(_repository(cli))
    # Under the attacker's master key the genuine snapshots no longer open; before, they
    # were skipped and the forged one became 'latest'.
    result = cli.run("snapshots", TENANT)
    assert result.code == ROLLED_BACK, str(result)
    assert result.out == "" and "Traceback" not in result.err
    # The index files written under the genuine key are reported too, one warning each.
    assert all(line.startswith(WARNING) for line in result.err_lines[:-1]), str(result)
    assert all(f"{snapshot[:8]} ({TENANT}" in result.err_lines[-1] for snapshot in genuine)
    assert "no longer authenticates" in result.err_lines[-1]


def test_a_key_added_through_the_product_is_accepted(live: LiveEmulator, tmp_path: Path) -> None:
    cli = _home(live, tmp_path, backups=1)
    space = Workspace(cli.home, environ={PASSPHRASE_VARIABLE: PASSPHRASE})
    space.add_key(PassphraseKeyProvider("a second long passphrase", params=WEAK_FOR_TESTS))
    ids = _snapshot_ids(cli)
    assert _snapshot_ids(cli.with_env(**{PASSPHRASE_VARIABLE: "a second long passphrase"})) \
        == ids


def _hostile_key_file(repository: Path) -> None:
    blob = {"version": 1, "kdf": "argon2id", "time_cost": 3, "memory_kib": 2 ** 40,
            "parallelism": 2, "salt": base64.b64encode(bytes(16)).decode(),
            "wrapped": base64.b64encode(bytes(60)).decode()}
    document = {"version": 1, "kind": "passphrase", "created": "2026-01-01T00:00:00+00:00",
                "wrapped": base64.b64encode(json.dumps(blob).encode()).decode()}
    LocalBackend(repository).create(master.KEYS_PREFIX + "0" * 32,
                                    json.dumps(document).encode())


def _unpin(cli: Cli) -> None:
    """Make the home look like one written before pinning existed."""
    config = cli.home / "config.toml"
    config.write_text(config.read_text().split("\n# The repository this home uses")[0] + "\n")
    assert "pin" not in tomllib.loads(config.read_text())


def test_a_key_file_with_huge_kdf_parameters_is_refused(
    live: LiveEmulator, tmp_path: Path
) -> None:
    cli = _home(live, tmp_path, backups=0)
    _hostile_key_file(_repository(cli))
    assert_one_line_error(cli.run("snapshots", TENANT), KEYS_CHANGED)  # pinned: never parsed
    _unpin(cli)
    assert_one_line_error(cli.run("snapshots", TENANT), KDF_TOO_COSTLY,
                          contains=("keys/" + "0" * 32, "argon2id"))


def test_tenant_add_pins_a_home_made_before_pinning(live: LiveEmulator, tmp_path: Path) -> None:
    cli = _home(live, tmp_path, backups=0)
    _unpin(cli)
    result = cli.run(*tenant_add_args(live, "fabrikam", SECRET_VARIABLE))
    assert result.code == 0, str(result)
    pin = tomllib.loads((cli.home / "config.toml").read_text())["pin"]
    assert pin["repository_id"] == Repository.read_config(
        LocalBackend(_repository(cli)))[0].repo_id.hex()
