"""``key export-public`` and ``verify-export`` end to end: a backup of the emulator exported,
its public key handed out, the archive verified, then tampered with in every way a
recipient must notice; and the standalone script of the documentation run on it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest_workspace import (
    Cli,
    Result,
    assert_one_line_error,
    tenant_add_args,
    weak_passphrase_keys,
)
from tests.support.live_emulator import LiveEmulator

TENANT = "contoso"
SECRET_VARIABLE = "CONTOSO_BACKUP_SECRET"
NOT_VERIFIED = 19
SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "verify-export.py"


@pytest.fixture(scope="module", autouse=True)
def _weak_keys() -> Iterator[None]:
    with weak_passphrase_keys():
        yield


@dataclass(frozen=True)
class Prepared:
    home: Path
    export: Path
    key: Path
    other_key: Path
    """The export-signing public key of another repository."""


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prepared]:
    root = tmp_path_factory.mktemp("verify-export")
    live = LiveEmulator.start(root / "emulator", users=8, seed=3, throttle="off")
    try:
        cli = Cli.for_home(root / "home", {SECRET_VARIABLE: live.client_secret})
        assert cli.run("init", "--repo", str(root / "home" / "repository")).code == 0
        added = cli.run(*tenant_add_args(live, TENANT, SECRET_VARIABLE))
        assert added.code == 0, str(added)
        cli.json("backup", TENANT)
    finally:
        live.stop()
    cli.json("export", TENANT, "-o", str(root / "contoso.zip"))
    (root / "key.pem").write_text(cli.json("key", "export-public")["pem"])
    other = Cli.for_home(root / "other")
    assert other.run("init", "--repo", str(root / "other" / "repository")).code == 0
    (root / "other.pem").write_text(other.json("key", "export-public")["pem"])
    yield Prepared(root / "home", root / "contoso.zip", root / "key.pem", root / "other.pem")


@pytest.fixture
def cli(prepared: Prepared, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli.for_home(prepared.home, capsys=capsys)


def rewrite(source: Path, target: Path, changes: dict[str, bytes | None]) -> Path:
    """Copy a ZIP, replacing (or, for None, dropping) the named entries."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            if info.filename not in changes:
                new.writestr(info, old.read(info))
            elif (data := changes[info.filename]) is not None:
                new.writestr(info, data)
    return target


def a_user_file(export: Path) -> str:
    with zipfile.ZipFile(export) as archive:
        return next(name for name in archive.namelist() if name.startswith("users/"))


def flip_one_byte(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]


def test_key_export_public_prints_the_key_that_signed_the_export(
        cli: Cli, prepared: Prepared) -> None:
    shown = cli.json("key", "export-public")
    with zipfile.ZipFile(prepared.export) as archive:
        envelope = json.loads(archive.read("manifest.sig"))
        manifest = json.loads(archive.read("manifest.json"))
    assert shown["algorithm"] == envelope["algorithm"] == "Ed25519"
    assert shown["fingerprint"] == envelope["key_fingerprint"]
    assert shown["fingerprint"] == manifest["signature"]["key_fingerprint"]
    assert shown["repository"] == manifest["repository"]
    assert shown["pem"].startswith("-----BEGIN PUBLIC KEY-----\n")
    assert shown["pem"] != prepared.other_key.read_text()
    text = cli.run("key", "export-public")
    assert text.code == 0
    assert text.out.startswith(shown["pem"])
    assert shown["fingerprint"] in text.out


def test_an_untouched_export_verifies_with_the_public_key_or_the_repository(
        cli: Cli, prepared: Prepared) -> None:
    with zipfile.ZipFile(prepared.export) as archive:
        listed = len(json.loads(archive.read("manifest.json"))["files"])
    report = cli.json("verify-export", str(prepared.export), "--public-key", str(prepared.key))
    assert report["verified"] is True
    assert report["signature"]["status"] == "valid"
    assert report["tenant"] == TENANT
    assert report["members"] == {"verified": listed + 1, "missing": [], "extra": [],
                                 "altered": []}
    assert report["problems"] == []
    assert cli.json("verify-export", str(prepared.export), "--repository")["verified"] is True
    text = cli.run("verify-export", str(prepared.export), "--repository")
    assert text.code == 0
    assert "Signature: valid" in text.out
    assert text.out.strip().endswith("Verified.")


def test_without_a_key_the_files_are_checked_but_the_export_is_not_verified(
        cli: Cli, prepared: Prepared) -> None:
    result = cli.run("verify-export", str(prepared.export), "--json")
    assert result.code == NOT_VERIFIED
    report = result.json()
    assert report["signature"]["status"] == "unchecked"
    assert report["members"]["verified"] > 1
    assert report["problems"] == []
    assert "no public key was given" in result.err


def verify_fails(cli: Cli, prepared: Prepared, archive: Path, *, key: Path | None = None,
                 contains: str) -> dict[str, Any]:
    """verify-export refuses ``archive``: exit 19, one error line naming the reason."""
    key_path = str(key or prepared.key)
    text = cli.run("verify-export", str(archive), "--public-key", key_path)
    # The report goes to stdout; the verdict is the one error line.
    assert_one_line_error(Result(text.args, text.code, "", text.err), NOT_VERIFIED,
                          contains=(contains,))
    assert "NOT verified." in text.out
    result = cli.run("verify-export", str(archive), "--public-key", key_path, "--json")
    assert result.code == NOT_VERIFIED
    report: dict[str, Any] = result.json()
    assert report["verified"] is False
    return report


def test_a_changed_byte_in_a_file_is_reported_as_altered(
        cli: Cli, prepared: Prepared, tmp_path: Path) -> None:
    name = a_user_file(prepared.export)
    with zipfile.ZipFile(prepared.export) as archive:
        data = archive.read(name)
        listed = len(json.loads(archive.read("manifest.json"))["files"])
    changed = rewrite(prepared.export, tmp_path / "changed.zip",
                      {name: flip_one_byte(data, len(data) // 2)})
    report = verify_fails(cli, prepared, changed, contains=f"{name}: SHA-256 does not match")
    # Every other file, and the README, still verifies.
    assert report["members"] == {"verified": listed, "missing": [], "extra": [],
                                 "altered": [name]}
    assert report["signature"]["status"] == "valid"


def test_a_changed_manifest_breaks_the_signature(
        cli: Cli, prepared: Prepared, tmp_path: Path) -> None:
    with zipfile.ZipFile(prepared.export) as archive:
        manifest = archive.read("manifest.json")
    forged = manifest.replace(b'"tenant":"contoso"', b'"tenant":"fabrikam"')
    assert forged != manifest
    changed = rewrite(prepared.export, tmp_path / "forged.zip", {"manifest.json": forged})
    report = verify_fails(cli, prepared, changed, contains="signature invalid")
    assert report["signature"]["status"] == "invalid"
    assert "changed after signing" in report["signature"]["detail"]
    assert report["problems"] == []


def test_a_removed_file_is_reported_missing(
        cli: Cli, prepared: Prepared, tmp_path: Path) -> None:
    name = a_user_file(prepared.export)
    removed = rewrite(prepared.export, tmp_path / "removed.zip", {name: None})
    report = verify_fails(cli, prepared, removed,
                          contains=f"{name}: listed in the manifest but missing")
    assert report["members"]["missing"] == [name]


def test_an_added_file_is_reported_extra(
        cli: Cli, prepared: Prepared, tmp_path: Path) -> None:
    added = tmp_path / "added.zip"
    shutil.copy(prepared.export, added)
    with zipfile.ZipFile(added, "a") as archive:
        archive.writestr("users/planted.json", b'{"id": "planted"}\n')
    report = verify_fails(cli, prepared, added,
                          contains="users/planted.json: not listed in the manifest")
    assert report["members"]["extra"] == ["users/planted.json"]


def test_a_removed_signature_is_reported_missing(
        cli: Cli, prepared: Prepared, tmp_path: Path) -> None:
    unsigned = rewrite(prepared.export, tmp_path / "unsigned.zip", {"manifest.sig": None})
    report = verify_fails(cli, prepared, unsigned, contains="signature missing")
    assert report["signature"]["status"] == "missing"


def test_another_repositorys_key_does_not_verify_the_export(
        cli: Cli, prepared: Prepared) -> None:
    report = verify_fails(cli, prepared, prepared.export, key=prepared.other_key,
                          contains="not by the given key")
    assert report["signature"]["status"] == "invalid"


def test_bad_input_is_one_line_and_names_the_problem(
        cli: Cli, prepared: Prepared, tmp_path: Path) -> None:
    both = cli.run("verify-export", str(prepared.export), "--public-key", str(prepared.key),
                   "--repository")
    assert_one_line_error(both, 2, contains=("not both",))
    absent = cli.run("verify-export", str(prepared.export), "--public-key",
                     str(tmp_path / "absent.pem"))
    assert_one_line_error(absent, 2, contains=("cannot read the public key",))
    (tmp_path / "junk.pem").write_text("not a key")
    junk = cli.run("verify-export", str(prepared.export), "--public-key",
                   str(tmp_path / "junk.pem"))
    assert_one_line_error(junk, 2, contains=("not an Ed25519 public key",))
    (tmp_path / "notes.zip").write_text("just text")
    not_zip = cli.run("verify-export", str(tmp_path / "notes.zip"), "--public-key",
                      str(prepared.key))
    assert_one_line_error(not_zip, 13, contains=("not a ZIP",))


def run_script(*args: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)],
                          capture_output=True, text=True, check=False, timeout=60)


def test_the_documented_script_verifies_an_export_without_the_product(
        prepared: Prepared, tmp_path: Path) -> None:
    assert len(SCRIPT.read_text().splitlines()) < 60
    assert "entra_backup" not in SCRIPT.read_text()
    good = run_script(prepared.export, prepared.key)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "verified" in good.stdout
    other = run_script(prepared.export, prepared.other_key)
    assert other.returncode != 0
    assert "signature" in other.stdout + other.stderr
    name = a_user_file(prepared.export)
    with zipfile.ZipFile(prepared.export) as archive:
        data = archive.read(name)
    changed = rewrite(prepared.export, tmp_path / "changed.zip",
                      {name: flip_one_byte(data, 3)})
    damaged = run_script(changed, prepared.key)
    assert damaged.returncode != 0
    assert name in damaged.stdout
    added = tmp_path / "added.zip"
    shutil.copy(prepared.export, added)
    with zipfile.ZipFile(added, "a") as archive:
        archive.writestr("users/planted.json", b"{}")
    extra = run_script(added, prepared.key)
    assert extra.returncode != 0
    assert "users/planted.json" in extra.stdout


def test_export_says_which_key_signed_it(cli: Cli, tmp_path: Path) -> None:
    fingerprint = cli.json("key", "export-public")["fingerprint"]
    result = cli.run("export", TENANT, "-o", str(tmp_path / "again.zip"))
    assert result.code == 0, str(result)
    assert f"Signed by the repository's export key {fingerprint[:16]}" in result.out
    summary = cli.json("export", TENANT, "-o", str(tmp_path / "again.zip"))
    assert summary["key_fingerprint"] == fingerprint


def test_the_text_output_of_export_public_is_a_usable_key_file(
        cli: Cli, prepared: Prepared, tmp_path: Path) -> None:
    """As the README shows it: 'key export-public > key.pem', comments and all."""
    printed = cli.run("key", "export-public")
    assert printed.code == 0
    (tmp_path / "key.pem").write_text(printed.out)
    report = cli.json("verify-export", str(prepared.export), "--public-key",
                      str(tmp_path / "key.pem"))
    assert report["verified"] is True
    assert run_script(prepared.export, tmp_path / "key.pem").returncode == 0
