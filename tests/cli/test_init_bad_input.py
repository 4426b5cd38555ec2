"""``init`` and ``tenant add`` given bad places and names: one line, a distinct exit code,
nothing created and nothing mixed. No emulator is needed: none of these reach Graph."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from entra_backup.config import PASSPHRASE_VARIABLE
from entra_backup.domain.errors import FolderNotEmpty, KeyServiceUnreachable, UnusablePath
from entra_backup.store.backends.endpoint import InsecureEndpoint
from tests.cli.conftest_workspace import (
    WARNING,
    Cli,
    assert_one_line_error,
    closed_port,
    tree,
    weak_passphrase_keys,
)


@pytest.fixture(autouse=True)
def _weak_keys() -> Iterator[None]:
    with weak_passphrase_keys():
        yield


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli.for_home(tmp_path / "home", capsys=capsys)


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    path = tmp_path / "a-file"
    path.write_text("data of someone else\n", encoding="utf-8")
    return path


def test_a_repository_path_that_is_a_file_is_refused(cli: Cli, a_file: Path) -> None:
    assert_one_line_error(cli.run("init", "--repo", str(a_file)), UnusablePath.exit_code,
                          contains=(str(a_file), "is a file"))
    assert a_file.read_text(encoding="utf-8") == "data of someone else\n"
    assert not (cli.home / "config.toml").exists()


def test_a_repository_path_under_a_file_is_refused(cli: Cli, a_file: Path) -> None:
    assert_one_line_error(cli.run("init", "--repo", str(a_file / "sub")),
                          UnusablePath.exit_code, contains=("lies under the file",))
    assert not (cli.home / "config.toml").exists()


def test_a_home_that_is_a_file_is_refused(a_file: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    cli = Cli.for_home(a_file, capsys=capsys)
    for command in (["init"], ["snapshots", "t", "--json"], ["tenant", "list"]):
        assert_one_line_error(cli.run(*command), UnusablePath.exit_code,
                              contains=(str(a_file), "not a folder"))
    assert a_file.read_text(encoding="utf-8") == "data of someone else\n"


def test_a_folder_with_other_files_is_not_made_a_repository(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "holiday.jpg").write_bytes(b"\xff\xd8 not really a photo")
    before = tree(folder)
    assert_one_line_error(cli.run("init", "--repo", str(folder)), FolderNotEmpty.exit_code,
                          contains=(str(folder), "not empty"))
    assert tree(folder) == before
    assert not (cli.home / "config.toml").exists()


def test_an_empty_folder_and_a_second_home_on_a_repository_are_accepted(
        cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    assert cli.run("init", "--repo", str(folder)).code == 0
    again = Cli.for_home(tmp_path / "other-home", capsys=cli.capsys)
    # A folder holding a repository is not "other files": init names it for what it is.
    assert_one_line_error(again.run("init", "--repo", str(folder)), 20,
                          contains=("repository exists",))


def test_an_unset_secret_variable_is_accepted_with_a_warning(cli: Cli) -> None:
    assert cli.run("init").code == 0
    result = cli.run("tenant", "add", "later", "--tenant-id",
                     "11111111-1111-1111-1111-111111111111", "--client-id",
                     "22222222-2222-2222-2222-222222222222", "--client-secret-env",
                     "LATER_SECRET_NOT_SET_YET")
    assert result.code == 0, str(result)
    assert result.err_lines == [result.err_lines[0]], str(result)
    assert result.err_lines[0].startswith(WARNING)
    assert "LATER_SECRET_NOT_SET_YET" in result.err_lines[0]
    assert "later" in json.loads((cli.home / "tenants.json").read_text())["tenants"]
    quiet = cli.with_env(SET_SECRET="value").run(
        "tenant", "add", "now", "--tenant-id", "11111111-1111-1111-1111-111111111111",
        "--client-id", "22222222-2222-2222-2222-222222222222", "--client-secret-env",
        "SET_SECRET")
    assert quiet.code == 0 and quiet.err == "", str(quiet)


def test_an_unreachable_kms_endpoint_is_one_line_with_the_endpoint(cli: Cli) -> None:
    endpoint = f"http://127.0.0.1:{closed_port()}"
    kms = cli.with_env(AWS_ENDPOINT_URL_KMS=endpoint, AWS_ACCESS_KEY_ID="test",
                       AWS_SECRET_ACCESS_KEY="test", AWS_CONFIG_FILE="/nonexistent",
                       AWS_SHARED_CREDENTIALS_FILE="/nonexistent",
                       **{PASSPHRASE_VARIABLE: None})
    line = assert_one_line_error(
        kms.run("init", "--key-provider", "aws-kms", "--kms-key-id", "alias/backup",
                "--s3-region", "eu-west-1"), KeyServiceUnreachable.exit_code,
        contains=(endpoint, "unreachable"))
    assert "Could not connect" in line
    assert not (cli.home / "config.toml").exists()
    assert not any((cli.home / "repository").glob("*"))


def test_a_kms_without_a_region_is_one_line(cli: Cli) -> None:
    kms = cli.with_env(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
                       AWS_DEFAULT_REGION=None, AWS_REGION=None,
                       AWS_CONFIG_FILE="/nonexistent")
    assert_one_line_error(kms.run("init", "--key-provider", "aws-kms", "--kms-key-id",
                                  "alias/backup"), 3, contains=("region",))


def test_a_catalog_url_with_a_password_is_refused(cli: Cli) -> None:
    url = f"postgresql://backup:s3cret@127.0.0.1:{closed_port()}/catalog"
    line = assert_one_line_error(cli.run("init", "--catalog-url", url), 2,
                                 contains=("--catalog-password-env", "PGPASSWORD"))
    assert "s3cret" not in line
    # Refused before anything was made, so init can simply be run again.
    assert not cli.home.exists() or not any(cli.home.iterdir())


def test_a_sqlite_url_with_a_host_is_one_line(cli: Cli, tmp_path: Path) -> None:
    url = f"sqlite://somehost/{tmp_path / 'elsewhere.db'}"
    assert_one_line_error(cli.run("init", "--catalog-url", url), 12,
                          contains=("not a usable catalog URL",))


def test_an_empty_home_option_is_not_the_working_directory(
        cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for command in (["--home", "", "init"], ["--home", " ", "tenant", "list"]):
        assert_one_line_error(cli.run(*command), 2, contains=("--home is empty",))
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_folder_that_is_not_a_home_keeps_its_modes(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    (folder / "notes.txt").write_text("team notes\n", encoding="utf-8")
    folder.chmod(0o755)
    (folder / "notes.txt").chmod(0o644)
    result = cli.run("--home", str(folder), "check")
    assert_one_line_error(result, 3, contains=("no configuration",))
    assert folder.stat().st_mode & 0o777 == 0o755
    assert (folder / "notes.txt").stat().st_mode & 0o777 == 0o644


@pytest.mark.skipif(os.geteuid() == 0,
                    reason="root reads and writes any folder: an unreadable one proves nothing")
def test_an_unreadable_folder_is_one_line(cli: Cli, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    (locked / "inside").mkdir(parents=True)
    locked.chmod(0o000)
    try:
        for command in (["--home", str(locked / "inside"), "init"],
                        ["init", "--repo", str(locked / "inside")]):
            assert_one_line_error(cli.run(*command), UnusablePath.exit_code)
    finally:
        locked.chmod(0o700)


@pytest.mark.parametrize(("endpoint", "allowed", "says"), [
    ("http://s3.example.net:9000", "loopback", "use https://"),
    ("http://127.0.0.1:9000", None, "ENTRA_BACKUP_S3_ALLOW_HTTP=loopback"),
    ("http://localhost:9000", "yes", "ENTRA_BACKUP_S3_ALLOW_HTTP=loopback"),
])
def test_an_s3_endpoint_over_plain_http_is_refused(cli: Cli, endpoint: str, allowed: str | None,
                                                   says: str) -> None:
    """Before the bucket is contacted and before the home is made (exit 38)."""
    result = cli.with_env(ENTRA_BACKUP_S3_ALLOW_HTTP=allowed).run(
        "init", "--repo", "s3://backups/repo", "--s3-endpoint-url", endpoint)
    assert_one_line_error(result, InsecureEndpoint.exit_code, contains=(endpoint, says))
    assert not cli.home.exists()
