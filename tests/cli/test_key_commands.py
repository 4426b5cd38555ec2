"""``key list|add|remove|passwd`` end to end through ``main``: each change opens the
repository with the current key, keeps the home's pin in step (the next command is not
refused as a key slot added behind its back), and a key file added any other way is still
refused. On an Object-Lock bucket (a real S3 protocol server), ``key remove`` says the old
version of the key file stays readable.
"""

from __future__ import annotations

import tomllib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from entra_backup.config import PASSPHRASE_VARIABLE
from entra_backup.store.backends.endpoint import ALLOW_HTTP_VARIABLE, ALLOW_LOOPBACK
from entra_backup.store.backends.local import LocalBackend
from entra_backup.store.keys import master
from entra_backup.store.keys.aws_kms import AwsKmsKeyProvider
from entra_backup.store.keys.keyfile import KeyFileProvider
from entra_backup.store.keys.passphrase import WEAK_FOR_TESTS, PassphraseKeyProvider
from entra_backup.store.repository import Repository
from tests.cli.conftest_workspace import (
    PASSPHRASE,
    WARNING,
    Cli,
    assert_one_line_error,
    weak_passphrase_keys,
)
from tests.support.moto_server import MotoServer, running_moto_server

NEW_PASSPHRASE = "a second passphrase, long enough"
USAGE, WRONG_KEY, KEYS_CHANGED, NO_SUCH_KEY, STILL_NEEDED, CONFIRMATION = 2, 21, 33, 39, 40, 17


@pytest.fixture(scope="module", autouse=True)
def _weak_keys() -> Iterator[None]:
    with weak_passphrase_keys():
        yield


def _home(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    cli = Cli.for_home(tmp_path / "home", {"NEW_SECRET": NEW_PASSPHRASE}, capsys)
    assert cli.run("init").code == 0
    return cli


def _pinned_key_set(cli: Cli) -> str:
    return str(tomllib.loads((cli.home / "config.toml").read_text())["pin"]["key_set"])


def _key_set(cli: Cli) -> str:
    return master.key_set_fingerprint(LocalBackend(cli.home / "repository"))


def test_key_list_shows_every_key_and_which_opened(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli = _home(tmp_path, capsys)
    [key] = cli.json("key", "list")
    assert key["kind"] == "passphrase" and key["current"] is True
    assert key["short_id"] == key["id"][:8]
    assert (cli.home / "repository" / "keys" / key["id"]).is_file()
    assert "kms_key_arn" not in key
    shown = cli.run("key", "list")
    assert shown.code == 0 and shown.out.startswith(f"*{key['short_id']}  passphrase")


def test_a_key_added_opens_the_repository_and_the_pin_follows(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli = _home(tmp_path, capsys)
    added = cli.json("key", "add", "--new-passphrase-env", "NEW_SECRET")
    assert added["kind"] == "passphrase" and added["current"] is False
    assert _pinned_key_set(cli) == _key_set(cli)
    # The old passphrase still opens, with no KeySetChanged; so does the new one.
    assert [key["current"] for key in cli.json("key", "list")
            if key["id"] == added["id"]] == [False]
    listed = cli.with_env(**{PASSPHRASE_VARIABLE: NEW_PASSPHRASE}).json("key", "list")
    assert [key["id"] for key in listed if key["current"]] == [added["id"]]

    key_file = tmp_path / "elsewhere" / "backup.key"
    key_file.parent.mkdir()
    made = cli.run("key", "add", "--key-provider", "keyfile", "--key-file", str(key_file),
                   "--json")
    assert made.code == 0 and made.err == "", str(made)
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert Repository.open(LocalBackend(cli.home / "repository"),
                           KeyFileProvider.from_file(key_file)).key_name.endswith(
        made.json()["id"])
    assert _pinned_key_set(cli) == _key_set(cli)
    assert_one_line_error(cli.run("key", "add", "--key-provider", "keyfile", "--key-file",
                                  str(key_file)), USAGE, contains=("exists already",))
    assert len(cli.json("key", "list")) == 3


def test_key_add_refuses_options_of_another_kind(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli = _home(tmp_path, capsys)
    assert_one_line_error(cli.run("key", "add", "--key-file", str(tmp_path / "k")), USAGE,
                          contains=("--key-file",))
    assert_one_line_error(cli.run("key", "add", "--key-provider", "keyfile"), USAGE,
                          contains=("--key-file",))
    assert_one_line_error(cli.run("key", "add", "--new-passphrase-env", "UNSET_VARIABLE"),
                          USAGE, contains=("UNSET_VARIABLE",))
    assert len(cli.json("key", "list")) == 1


def test_remove_refuses_the_key_in_use_the_last_and_an_unknown_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli = _home(tmp_path, capsys)
    [current] = cli.json("key", "list")
    assert_one_line_error(cli.run("key", "remove", current["short_id"], "--yes"), STILL_NEEDED,
                          contains=("in use",))
    assert_one_line_error(cli.run("key", "remove", "ffff0000", "--yes"), NO_SUCH_KEY,
                          contains=("matches no key",))
    added = cli.json("key", "add", "--new-passphrase-env", "NEW_SECRET")
    # The only other key is in use from the new passphrase's side too: it is the last one
    # once the first is gone, and the key in use before that.
    other = cli.with_env(**{PASSPHRASE_VARIABLE: NEW_PASSPHRASE})
    assert_one_line_error(other.run("key", "remove", added["short_id"], "--yes"),
                          STILL_NEEDED, contains=("in use",))
    assert other.run("key", "remove", current["short_id"], "--yes").code == 0
    assert_one_line_error(other.run("key", "remove", added["short_id"], "--yes"),
                          STILL_NEEDED)
    assert_one_line_error(cli.run("key", "list"), WRONG_KEY)


def test_remove_asks_and_refuses_without_a_terminal_or_yes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli = _home(tmp_path, capsys)
    added = cli.json("key", "add", "--new-passphrase-env", "NEW_SECRET")
    assert_one_line_error(cli.run("key", "remove", added["short_id"]), CONFIRMATION,
                          contains=("--yes",))
    assert len(cli.json("key", "list")) == 2
    removed = cli.run("key", "remove", added["short_id"], "--yes", "--json")
    assert removed.code == 0 and removed.err == "", str(removed)
    assert removed.json() == {"removed": added, "old_versions_kept": None}
    assert [key["current"] for key in cli.json("key", "list")] == [True]
    assert _pinned_key_set(cli) == _key_set(cli)


def test_passwd_replaces_the_passphrase_and_keeps_the_pin(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli = _home(tmp_path, capsys)
    [old] = cli.json("key", "list")
    changed = cli.run("key", "passwd", "--new-passphrase-env", "NEW_SECRET", "--json")
    assert changed.code == 0 and changed.err == "", str(changed)
    assert changed.json()["removed"]["id"] == old["id"]
    assert_one_line_error(cli.run("key", "list"), WRONG_KEY, contains=("wrong passphrase",))
    [new] = cli.with_env(**{PASSPHRASE_VARIABLE: NEW_PASSPHRASE}).json("key", "list")
    assert new["id"] == changed.json()["added"]["id"] != old["id"] and new["current"]
    assert _pinned_key_set(cli) == _key_set(cli)


def test_passwd_needs_a_new_passphrase_from_somewhere(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli = _home(tmp_path, capsys)
    assert_one_line_error(cli.run("key", "passwd"), USAGE, contains=("--new-passphrase-env",))
    assert_one_line_error(cli.with_env(NEW_SECRET="  ").run(
        "key", "passwd", "--new-passphrase-env", "NEW_SECRET"), contains=("blank",))
    assert len(cli.json("key", "list")) == 1


def test_a_key_file_added_by_hand_is_still_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli = _home(tmp_path, capsys)
    assert cli.run("key", "add", "--new-passphrase-env", "NEW_SECRET").code == 0
    # The current passphrase, the genuine master key, but not through the home.
    backend = LocalBackend(cli.home / "repository")
    repo = Repository.open(backend, PassphraseKeyProvider(PASSPHRASE, params=WEAK_FOR_TESTS))
    repo.add_key(PassphraseKeyProvider("slipped in by hand", params=WEAK_FOR_TESTS))
    for command in (["key", "list"], ["key", "add", "--new-passphrase-env", "NEW_SECRET"],
                    ["key", "passwd", "--new-passphrase-env", "NEW_SECRET"]):
        assert_one_line_error(cli.run(*command), KEYS_CHANGED, contains=("key files",))
    assert len(master.stored_keys(backend)) == 3


def test_init_warns_about_a_key_file_in_the_home(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli = Cli.for_home(tmp_path / "home", capsys=capsys)
    made = cli.run("init", "--key-provider", "keyfile")
    assert made.code == 0, str(made)
    [line] = made.err_lines
    assert line.startswith(WARNING)
    assert "inside the home folder" in line and "repository-format.md" in line
    assert str((cli.home / "repository.key").resolve()) in line

    apart = tmp_path / "removable"
    apart.mkdir()
    other = Cli.for_home(tmp_path / "other", capsys=capsys)
    made = other.run("init", "--key-provider", "keyfile", "--key-file",
                     str(apart / "backup.key"))
    assert made.code == 0 and made.err == "", str(made)


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    with running_moto_server() as server:
        yield server


def _s3_home(moto: MotoServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
             object_lock: bool) -> tuple[Cli, str]:
    bucket = f"keys-{uuid.uuid4().hex[:16]}"
    moto.client("s3").create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": moto.region},
        ObjectLockEnabledForBucket=object_lock)
    cli = Cli.for_home(tmp_path / "home", {
        "NEW_SECRET": NEW_PASSPHRASE, "AWS_ACCESS_KEY_ID": moto.access_key_id,
        "AWS_SECRET_ACCESS_KEY": moto.secret_access_key,
        ALLOW_HTTP_VARIABLE: ALLOW_LOOPBACK}, capsys)
    lock = ["--object-lock-days", "1"] if object_lock else []
    made = cli.run("init", "--repo", f"s3://{bucket}/repo", "--s3-endpoint-url",
                   moto.endpoint_url, "--s3-region", moto.region, *lock)
    assert made.code == 0, str(made)
    return cli, bucket


@pytest.mark.parametrize("object_lock", [True, False])
def test_remove_on_a_bucket_keeping_versions_says_the_old_copy_stays(
        moto: MotoServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        object_lock: bool) -> None:
    cli, bucket = _s3_home(moto, tmp_path, capsys, object_lock)
    s3: Any = moto.client("s3")
    if not object_lock:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    added = cli.json("key", "add", "--new-passphrase-env", "NEW_SECRET")
    removed = cli.run("key", "remove", added["short_id"], "--yes")
    assert removed.code == 0, str(removed)
    [warning] = removed.err_lines
    assert warning.startswith(WARNING) and f"keys/{added['id']}" in warning
    assert ("Object Lock" if object_lock else "versioned") in warning
    assert "stays readable" in warning
    assert [key["id"] for key in cli.json("key", "list")] != [added["id"]]
    assert len(cli.json("key", "list")) == 1  # and the pin still matches
    versions = s3.list_object_versions(Bucket=bucket, Prefix=f"repo/keys/{added['id']}")
    kept = [version["VersionId"] for version in versions.get("Versions", [])]
    assert kept, versions
    old = s3.get_object(Bucket=bucket, Key=f"repo/keys/{added['id']}", VersionId=kept[0])
    assert master.parse_key("old", old["Body"].read()).kind == "passphrase"


def test_remove_on_a_plain_bucket_warns_of_nothing(
        moto: MotoServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli, bucket = _s3_home(moto, tmp_path, capsys, object_lock=False)
    added = cli.json("key", "add", "--new-passphrase-env", "NEW_SECRET")
    removed = cli.run("key", "remove", added["short_id"], "--yes", "--json")
    assert removed.code == 0 and removed.err == "", str(removed)
    assert removed.json()["old_versions_kept"] is None
    assert "Versions" not in moto.client("s3").list_object_versions(
        Bucket=bucket, Prefix=f"repo/keys/{added['id']}")


def test_a_kms_key_added_lists_its_arn_and_opens_the_repository(
        moto: MotoServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli = _home(tmp_path, capsys).with_env(
        AWS_ENDPOINT_URL_KMS=moto.endpoint_url, AWS_ACCESS_KEY_ID=moto.access_key_id,
        AWS_SECRET_ACCESS_KEY=moto.secret_access_key, AWS_DEFAULT_REGION=moto.region,
        AWS_CONFIG_FILE="/nonexistent", AWS_SHARED_CREDENTIALS_FILE="/nonexistent")
    kms: Any = moto.client("kms")
    key = kms.create_key()["KeyMetadata"]
    added = cli.json("key", "add", "--key-provider", "aws-kms", "--kms-key-id", key["KeyId"])
    assert added["kind"] == "aws-kms" and added["kms_key_arn"] == key["Arn"]
    listed = {item["id"]: item for item in cli.json("key", "list")}
    assert listed[added["id"]]["kms_key_arn"] == key["Arn"]
    assert _pinned_key_set(cli) == _key_set(cli)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in cli.env.items():
            if value is not None:
                patch.setenv(name, value)
        opened = Repository.open(LocalBackend(cli.home / "repository"),
                                 AwsKmsKeyProvider(key["KeyId"], region=moto.region))
    assert opened.key_name == f"keys/{added['id']}"
