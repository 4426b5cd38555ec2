"""``forget`` and ``prune`` end to end: a home with three backups of the emulator (a user
retitled between each), thinned out by policy, then reclaimed; and bad input refused.

One module-scoped emulator and one prepared home; each test works on its own copy of the
home, so tests do not depend on each other's order.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from entra_backup.catalog import Catalog
from entra_backup.store.backends.endpoint import ALLOW_HTTP_VARIABLE, ALLOW_LOOPBACK
from entra_backup.store.backends.local import LocalBackend
from entra_backup.store.lock import RepositoryLock
from tests.cli.conftest_workspace import (
    Cli,
    assert_one_line_error,
    patch_a_cloud_user,
    tenant_add_args,
    weak_passphrase_keys,
)
from tests.support.live_emulator import LiveEmulator
from tests.support.moto_server import MotoServer, running_moto_server

TENANT = "contoso"
SECRET_VARIABLE = "CONTOSO_BACKUP_SECRET"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveEmulator]:
    with LiveEmulator.running(tmp_path_factory.mktemp("retention-emulator"), users=12,
                                  seed=5, throttle="off") as emulator:
        yield emulator


@pytest.fixture(scope="module", autouse=True)
def _weak_keys() -> Iterator[None]:
    with weak_passphrase_keys():
        yield


@dataclass(frozen=True)
class Prepared:
    home: Path
    snapshots: list[str]
    """Oldest first."""


def _retitle_a_user(live: LiveEmulator, title: str) -> None:
    patch_a_cloud_user(live, {"jobTitle": title})


@pytest.fixture(scope="module")
def prepared(live: LiveEmulator, tmp_path_factory: pytest.TempPathFactory) -> Prepared:
    home = tmp_path_factory.mktemp("retention-home") / "home"
    cli = Cli.for_home(home, {SECRET_VARIABLE: live.client_secret})
    assert cli.run("init", "--repo", str(home / "repository")).code == 0
    added = cli.run(*tenant_add_args(live, TENANT, SECRET_VARIABLE))
    assert added.code == 0, str(added)
    ids = []
    for round_ in range(3):
        _retitle_a_user(live, f"Retention title {round_}")
        ids.append(cli.json("backup", TENANT)["snapshot"])
    return Prepared(home, ids)


@pytest.fixture
def cli(prepared: Prepared, live: LiveEmulator, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> Cli:
    """A private copy of the prepared home (its config names the copy's repository)."""
    home = tmp_path / "home"
    shutil.copytree(prepared.home, home)
    config = home / "config.toml"
    config.write_text(config.read_text().replace(str(prepared.home), str(home)))
    return Cli.for_home(home, {SECRET_VARIABLE: live.client_secret}, capsys)


def _snapshot_ids(cli: Cli) -> list[str]:
    return [s["id"] for s in cli.json("snapshots", TENANT)]


def _catalog_ids(cli: Cli) -> set[str]:
    with Catalog.open(f"sqlite:///{cli.home / 'catalog.db'}") as catalog:
        return set(catalog.snapshot_ids(TENANT))


def _ids(entries: list[dict[str, Any]]) -> list[str]:
    return [entry["id"] for entry in entries]


def test_dry_run_reports_the_decisions_and_removes_nothing(cli: Cli, prepared: Prepared
                                                          ) -> None:
    report = cli.json("forget", TENANT, "--keep-last", "1", "--dry-run")
    newest, *older = reversed(prepared.snapshots)
    assert report["dry_run"] is True
    assert report["kept"] == [{"id": newest, "time": report["kept"][0]["time"],
                               "reasons": ["last"]}]
    assert _ids(report["removed"]) == older
    assert report["retained"] == []
    assert sorted(_snapshot_ids(cli)) == sorted(prepared.snapshots)
    assert _catalog_ids(cli) == set(prepared.snapshots)


def test_forget_removes_snapshots_from_repository_and_catalog(cli: Cli, prepared: Prepared
                                                              ) -> None:
    oldest, *kept = prepared.snapshots
    report = cli.json("forget", TENANT, "--keep-last", "2")
    assert _ids(report["removed"]) == [oldest]
    assert sorted(_ids(report["kept"])) == sorted(kept)
    assert report["catalog"] == "reindexed"
    assert sorted(_snapshot_ids(cli)) == sorted(kept)
    assert _catalog_ids(cli) == set(kept)
    for version in cli.json("search", TENANT, "Retention title"):
        assert version["first_snapshot"] != oldest


def test_the_text_output_names_each_decision_and_the_figures(cli: Cli, prepared: Prepared
                                                             ) -> None:
    planned = cli.run("forget", TENANT, "--keep-last", "2", "--dry-run")
    assert planned.code == 0, str(planned)
    assert planned.out.count("keep (last)") == 2 and "to remove" in planned.out
    assert "2 kept, 1 to remove (dry run)" in planned.out
    done = cli.run("forget", TENANT, "--keep-last", "2")
    assert "2 kept, 1 removed" in done.out and "entra-backup prune" in done.out
    assert prepared.snapshots[0][:12] in done.out
    pruned = cli.run("prune")
    assert pruned.code == 0, str(pruned)
    assert "Blobs:" in pruned.out and "Deleted" in pruned.out


def test_keep_within_and_calendar_rules_keep_recent_snapshots(cli: Cli, prepared: Prepared
                                                              ) -> None:
    report = cli.json("forget", TENANT, "--keep-within", "1d", "--keep-daily", "1")
    assert sorted(_ids(report["kept"])) == sorted(prepared.snapshots)
    assert report["kept"][0]["reasons"] == ["within", "daily"]
    assert report["removed"] == []


def test_prune_reclaims_what_forget_left_and_the_repository_checks(cli: Cli) -> None:
    cli.json("forget", TENANT, "--keep-last", "1")
    planned = cli.json("prune", "--dry-run")
    assert planned["dry_run"] is True
    assert planned["blobs"]["unused"] > 0, "the forgotten snapshots held their own versions"
    assert planned["packs"]["deleted"] == 0
    done = cli.json("prune")
    assert done["blobs"]["unused"] == planned["blobs"]["unused"]
    assert done["packs"]["deleted"] == planned["packs"]["delete"] + planned["packs"]["repack"]
    assert done["bytes"]["deleted"] == planned["bytes"]["delete"] + planned["bytes"]["repack"]
    assert cli.json("check", "--read-data")["ok"] is True
    again = cli.json("prune", "--dry-run")
    assert (again["packs"]["delete"], again["packs"]["repack"]) == (0, 0), "nothing left to do"
    assert again["blobs"]["unused"] < planned["blobs"]["unused"], \
        "only unused blobs in packs kept under the repack threshold remain"


def test_forget_without_rules_uses_the_tenants_stored_policy(cli: Cli, prepared: Prepared
                                                             ) -> None:
    edited = cli.run("tenant", "edit", TENANT, "--keep-last", "1")
    assert edited.code == 0, str(edited)
    stored = {t["name"]: t for t in cli.json("tenant", "list")}[TENANT]["retention"]
    assert stored == {"keep_last": 1}
    report = cli.json("forget", TENANT)
    assert report["policy"] == {"keep_last": 1}
    assert _ids(report["kept"]) == [prepared.snapshots[-1]]
    assert _snapshot_ids(cli) == [prepared.snapshots[-1]]


@pytest.mark.parametrize(("args", "contains"), [
    (("forget", TENANT), "no retention policy"),
    (("forget", TENANT, "--keep-last", "0"), "policy is empty"),
    (("forget", TENANT, "--keep-within", "30 days"), "not a duration"),
    (("forget", TENANT, "--keep-within", "0d"), "longer than zero"),
    (("forget", TENANT, "--keep-daily", "-1"), "cannot be negative"),
    (("forget", "fabrikam", "--keep-last", "1"), "no tenant named 'fabrikam'"),
])
def test_bad_forget_input_is_one_line_and_removes_nothing(
        cli: Cli, prepared: Prepared, args: tuple[str, ...], contains: str) -> None:
    assert_one_line_error(cli.run(*args), 2, contains=(contains,))
    assert sorted(_snapshot_ids(cli)) == sorted(prepared.snapshots)


def test_forget_and_prune_refuse_while_the_repository_is_locked(cli: Cli) -> None:
    lock = RepositoryLock(LocalBackend(cli.home / "repository"))
    lock.acquire()
    try:
        for args in (("forget", TENANT, "--keep-last", "1"), ("prune",)):
            assert_one_line_error(cli.run(*args), 24, contains=("busy",))
    finally:
        lock.release()


def _registered(cli: Cli) -> set[str]:
    return {t["name"] for t in cli.json("tenant", "list")}


def _repository_snapshots(cli: Cli) -> int:
    return len(list((cli.home / "repository" / "snapshots").iterdir()))


def test_tenant_remove_keeps_the_snapshots_and_says_how_to_delete_them(
        cli: Cli, prepared: Prepared) -> None:
    result = cli.run("tenant", "remove", TENANT)
    assert result.code == 0, str(result)
    assert "3 snapshot(s) of it are kept" in result.out
    assert f"tenant remove {TENANT} --delete-snapshots" in result.out
    assert _registered(cli) == set()
    assert _repository_snapshots(cli) == 3
    assert _catalog_ids(cli) == set(prepared.snapshots)
    later = cli.run("tenant", "remove", TENANT, "--delete-snapshots", "--yes")
    assert later.code == 0, str(later)
    assert "3 snapshot(s) deleted" in later.out
    assert _repository_snapshots(cli) == 0
    assert _catalog_ids(cli) == set()


def test_deleting_snapshots_needs_a_terminal_or_yes(cli: Cli, prepared: Prepared) -> None:
    refused = cli.run("tenant", "remove", TENANT, "--delete-snapshots")
    assert_one_line_error(refused, 2, contains=("--yes",))
    assert _registered(cli) == {TENANT}
    assert _repository_snapshots(cli) == 3
    done = cli.run("tenant", "remove", TENANT, "--delete-snapshots", "--yes")
    assert done.code == 0, str(done)
    assert _registered(cli) == set()
    assert _repository_snapshots(cli) == 0
    assert _catalog_ids(cli) == set()
    pruned = cli.json("prune")
    assert pruned["packs"]["deleted"] > 0
    assert cli.json("check")["ok"] is True


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    with running_moto_server() as server:
        yield server


def _s3_cli(live: LiveEmulator, moto: MotoServer, home: Path,
            capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli.for_home(home, {SECRET_VARIABLE: live.client_secret,
                               "AWS_ACCESS_KEY_ID": moto.access_key_id,
                               "AWS_SECRET_ACCESS_KEY": moto.secret_access_key,
                               # The test server speaks http on loopback.
                               ALLOW_HTTP_VARIABLE: ALLOW_LOOPBACK}, capsys)


def _bucket(moto: MotoServer, *, object_lock: bool) -> str:
    name = f"retention-{uuid.uuid4().hex[:16]}"
    moto.client("s3").create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": moto.region},
        ObjectLockEnabledForBucket=object_lock)
    return name


def _init_s3(cli: Cli, moto: MotoServer, bucket: str, *lock: str) -> Any:
    return cli.run("init", "--repo", f"s3://{bucket}/repo", "--s3-endpoint-url",
                   moto.endpoint_url, "--s3-region", moto.region, *lock, "--json")


def test_object_lock_needs_a_bucket_created_with_it(live: LiveEmulator, moto: MotoServer,
                                                    tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    cli = _s3_cli(live, moto, tmp_path / "home", capsys)
    refused = _init_s3(cli, moto, _bucket(moto, object_lock=False), "--object-lock-days", "1")
    assert_one_line_error(refused, 2, contains=("not created with Object Lock",))
    assert not (cli.home / "config.toml").exists()


@pytest.mark.slow
def test_object_lock_retains_every_file_and_forget_and_prune_say_so(
        live: LiveEmulator, moto: MotoServer, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    bucket = _bucket(moto, object_lock=True)
    cli = _s3_cli(live, moto, tmp_path / "home", capsys)
    init = _init_s3(cli, moto, bucket, "--object-lock-days", "1")
    assert init.code == 0, str(init)
    assert init.json()["object_lock"] == {"days": 1, "mode": "governance"}
    assert cli.run(*tenant_add_args(live, TENANT, SECRET_VARIABLE)).code == 0
    ids = []
    for round_ in range(2):
        _retitle_a_user(live, f"Locked title {round_}")
        ids.append(cli.json("backup", TENANT)["snapshot"])

    s3 = moto.client("s3")
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert any(key.startswith("repo/data/") for key in keys)
    now = datetime.now(UTC)
    for key in keys:
        head = s3.head_object(Bucket=bucket, Key=key)
        assert head["ObjectLockMode"] == "GOVERNANCE", key
        left = head["ObjectLockRetainUntilDate"] - now
        assert timedelta(hours=23) < left <= timedelta(days=1), key

    forgot = cli.run("forget", TENANT, "--keep-last", "1", "--json")
    assert forgot.code == 26, str(forgot)
    assert "Traceback" not in forgot.err and len(forgot.err_lines) == 1, str(forgot)
    assert "Object Lock" in forgot.err_lines[0]
    report = forgot.json()
    assert [entry["id"] for entry in report["retained"]] == [ids[0]]
    assert "retained until" in report["retained"][0]["error"]
    assert report["removed"] == []
    assert sorted(_snapshot_ids(cli)) == sorted(ids)

    # What a crashed backup leaves: a pack in no index, under retention like every file.
    orphan = "data/ab/" + "ab" * 32
    s3.put_object(Bucket=bucket, Key=f"repo/{orphan}", Body=b"x" * 100,
                  ObjectLockMode="GOVERNANCE",
                  ObjectLockRetainUntilDate=now + timedelta(days=1))
    pruned = cli.run("prune", "--json")
    assert pruned.code == 26, str(pruned)
    assert len(pruned.err_lines) == 1 and "Object Lock" in pruned.err_lines[0], str(pruned)
    figures = pruned.json()
    assert figures["retained"] == [orphan]
    assert figures["packs"]["deleted"] == 0
    assert cli.json("check", "--read-data")["ok"] is True
    assert sorted(_snapshot_ids(cli)) == sorted(ids)
