"""Verifying an export: the manifest's signature, each file's hash, in bounded memory."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from entra_backup.services.export import export_snapshot, verify_export
from entra_backup.services.export_format import (
    ExportError,
    fingerprint,
    signature_envelope,
    signed_message,
)
from entra_backup.services.export_verify import ExportReport, verify_archive
from entra_backup.store.backends.local import LocalBackend
from entra_backup.store.crypto import RepositoryKeys
from entra_backup.store.keys.passphrase import allow_weak_kdf_for_tests
from entra_backup.store.repository import Repository
from tests.store._support import new_repository

allow_weak_kdf_for_tests()


def new_repo(path: Path, users: int = 3, groups: int = 2, payload: int = 0) -> Repository:
    """A repository holding one snapshot of tenant contoso."""
    repo = new_repository(LocalBackend(path))
    with repo.writer(tenant="contoso") as writer:
        for n in range(users):
            document: dict[str, Any] = {"id": f"u{n}", "displayName": f"User {n}"}
            if payload:  # incompressible, so the archive is as large as its files
                document["blob"] = base64.b64encode(os.urandom(payload)).decode()
            writer.add("users", f"u{n}", document)
        for n in range(groups):
            writer.add("groups", f"g{n:05}", {"id": f"g{n:05}", "displayName": f"Group {n}"})
        writer.commit()
    return repo


def export_of(repo: Repository, path: Path) -> Path:
    export_snapshot(repo, repo.snapshots()[-1], path)
    return path


def key_of(repo: Repository) -> Ed25519PublicKey:
    return repo.keys.export_signing_key().public_key()


@pytest.fixture
def repo(tmp_path: Path) -> Repository:
    return new_repo(tmp_path / "repo")


@pytest.fixture
def export(repo: Repository, tmp_path: Path) -> Path:
    return export_of(repo, tmp_path / "contoso.zip")


def rewrite(source: Path, target: Path, changes: dict[str, bytes | None]) -> Path:
    """Copy a ZIP, replacing (or, for None, dropping) the named entries."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            if info.filename not in changes:
                new.writestr(info, old.read(info))
            elif (data := changes[info.filename]) is not None:
                new.writestr(info, data)
    return target


def read(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read(name)


def test_the_signing_key_is_derived_from_the_master_key_and_differs_per_repository(
        repo: Repository, tmp_path: Path) -> None:
    master = bytes(range(64))
    first = RepositoryKeys.derive(master, b"r" * 16).export_signing_key().public_key()
    again = RepositoryKeys.derive(master, b"r" * 16).export_signing_key().public_key()
    other = RepositoryKeys.derive(master, b"s" * 16).export_signing_key().public_key()
    assert fingerprint(first) == fingerprint(again)
    assert fingerprint(first) != fingerprint(other)
    assert fingerprint(key_of(repo)) != fingerprint(key_of(new_repo(tmp_path / "b")))


def test_an_untouched_export_verifies_and_binds_repository_tenant_and_snapshot(
        repo: Repository, export: Path) -> None:
    report = verify_archive(export, key_of(repo))
    assert report.verified
    assert report.signature == "valid"
    assert report.members_verified == 3 + 2 + 1  # the objects and the README
    assert (report.missing, report.extra, report.altered, report.problems) == ([], [], [], [])
    manifest = read(export, "manifest.json")
    envelope = json.loads(read(export, "manifest.sig"))
    assert envelope["manifest_sha256"] == hashlib.sha256(manifest).hexdigest()
    key_of(repo).verify(base64.b64decode(envelope["signature"]),
                        signed_message(envelope["manifest_sha256"]))
    header = json.loads(manifest)
    assert (header["repository"], header["tenant"]) == (repo.id, "contoso")
    assert header["snapshot"]["id"] == repo.snapshots()[-1].id
    assert report.to_json()["snapshot"] == header["snapshot"]["id"]


def test_every_line_of_the_manifest_but_the_first_and_last_is_one_file(export: Path) -> None:
    lines = read(export, "manifest.json").splitlines()
    assert lines[0].endswith(b',"files":[')
    assert lines[-1] == b"]}"
    records = [json.loads(line.removesuffix(b",")) for line in lines[1:-1]]
    assert records == json.loads(read(export, "manifest.json"))["files"]


def test_a_changed_record_in_the_manifest_is_altered_and_breaks_the_signature(
        repo: Repository, export: Path, tmp_path: Path) -> None:
    manifest = read(export, "manifest.json")
    record = json.loads(manifest.splitlines()[1].removesuffix(b","))
    forged = manifest.replace(record["sha256"].encode(), b"0" * 64)
    report = verify_archive(rewrite(export, tmp_path / "x.zip", {"manifest.json": forged}),
                            key_of(repo))
    assert report.signature == "invalid"
    assert report.altered == [record["path"]]
    assert report.reasons()[0].startswith("signature invalid: manifest.json is not the")


def test_a_manifest_re_signed_by_another_repository_is_refused(
        repo: Repository, export: Path, tmp_path: Path) -> None:
    """The forger changes a file, fixes its hash and signs with a key of their own."""
    manifest = read(export, "manifest.json")
    record = json.loads(manifest.splitlines()[1].removesuffix(b","))
    forged_file = b'{"id": "forged"}\n'
    forged = manifest.replace(record["sha256"].encode(),
                              hashlib.sha256(forged_file).hexdigest().encode())
    forged = forged.replace(f'"size":{record["size"]}'.encode(),
                            f'"size":{len(forged_file)}'.encode(), 1)
    mallory = new_repo(tmp_path / "mallory").keys.export_signing_key()
    sealed = signature_envelope(mallory, hashlib.sha256(forged).hexdigest())
    archive = rewrite(export, tmp_path / "x.zip", {
        record["path"]: forged_file, "manifest.json": forged, "manifest.sig": sealed})
    assert verify_archive(archive).altered == []  # the hashes alone are fooled
    report = verify_archive(archive, key_of(repo))
    assert report.signature == "invalid"
    assert "names another signing key" in report.signature_detail
    # Claiming our fingerprint in the envelope does not help either.
    envelope = json.loads(sealed)
    envelope["key_fingerprint"] = fingerprint(key_of(repo))
    claimed = rewrite(archive, tmp_path / "y.zip", {"manifest.sig": orjson.dumps(envelope)})
    report = verify_archive(claimed, key_of(repo))
    assert report.signature == "invalid"


def test_a_genuine_export_of_another_repository_is_not_verified_by_this_key(
        repo: Repository, tmp_path: Path) -> None:
    other = new_repo(tmp_path / "other")
    archive = export_of(other, tmp_path / "other.zip")
    assert verify_archive(archive, key_of(other)).verified
    report = verify_archive(archive, key_of(repo))
    assert report.signature == "invalid"
    assert f"not by the given key {fingerprint(key_of(repo))}" in report.signature_detail


def test_a_garbled_signature_is_invalid_and_a_missing_one_is_missing(
        repo: Repository, export: Path, tmp_path: Path) -> None:
    envelope = json.loads(read(export, "manifest.sig"))
    raw = bytearray(base64.b64decode(envelope["signature"]))
    raw[0] ^= 1
    envelope["signature"] = base64.b64encode(bytes(raw)).decode()
    garbled = rewrite(export, tmp_path / "g.zip", {"manifest.sig": orjson.dumps(envelope)})
    report = verify_archive(garbled, key_of(repo))
    assert (report.signature, report.signature_detail) == (
        "invalid", "the signature does not match the manifest and the key")
    missing = verify_archive(rewrite(export, tmp_path / "m.zip", {"manifest.sig": None}),
                             key_of(repo))
    assert (missing.signature, missing.problems) == ("missing", [])
    assert not missing.verified
    junk = verify_archive(rewrite(export, tmp_path / "j.zip", {"manifest.sig": b"junk"}),
                          key_of(repo))
    assert junk.signature == "invalid"


def test_a_changed_readme_and_a_duplicated_entry_are_found(
        repo: Repository, export: Path, tmp_path: Path) -> None:
    readme = read(export, "README.txt").replace(b"Entra", b"Entr4")
    report = verify_archive(rewrite(export, tmp_path / "r.zip", {"README.txt": readme}),
                            key_of(repo))
    assert report.altered == ["README.txt"]
    twice = rewrite(export, tmp_path / "t.zip", {})
    with zipfile.ZipFile(twice, "a") as archive, pytest.warns(UserWarning, match="Duplicate"):
        archive.writestr("users/u1.json", read(export, "users/u1.json"))
    report = verify_archive(twice, key_of(repo))
    assert report.problems == ["users/u1.json: present more than once"]


@pytest.mark.parametrize(("change", "message"), [
    (lambda m: m.replace(b"},\n", b"}\n", 1), "not closed properly"),
    (lambda m: m + b"trailing", "goes on after its file list"),
    (lambda m: m.replace(b"]}\n", b""), "ends too early"),
    (lambda m: m.replace(b'"files":[\n', b'"files":[', 1), "not JSON"),
    (lambda m: m.replace(b"\n", b" " * (1024 * 1024) + b"\n", 1), "too long"),
])
def test_a_malformed_manifest_is_an_error_naming_it(
        export: Path, tmp_path: Path, change: Any, message: str) -> None:
    manifest = change(read(export, "manifest.json"))
    with pytest.raises(ExportError, match=message) as raised:
        verify_archive(rewrite(export, tmp_path / "x.zip", {"manifest.json": manifest}))
    assert raised.value.exit_code == 13


def test_a_version_1_export_is_still_checked_by_hash_but_never_verified(
        export: Path, tmp_path: Path) -> None:
    """Exports made before signing: a pretty-printed manifest without repository or readme."""
    manifest = json.loads(read(export, "manifest.json"))
    old = {key: value for key, value in manifest.items()
           if key not in ("repository", "signature", "readme")}
    old["version"] = 1
    pretty = orjson.dumps(old, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
    archive = rewrite(export, tmp_path / "v1.zip", {"manifest.json": pretty,
                                                    "manifest.sig": None})
    report = verify_archive(archive)
    assert (report.version, report.signature, report.problems) == (1, "missing", [])
    assert report.members_verified == len(old["files"])
    assert verify_export(archive) == []
    name = old["files"][0]["path"]
    damaged = rewrite(archive, tmp_path / "v1-damaged.zip", {name: b"{}"})
    assert verify_archive(damaged).altered == [name]


def peak_of(action: Any) -> int:
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_large_files_are_verified_in_bounded_memory(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo", users=24, groups=0, payload=300_000)
    export = export_of(repo, tmp_path / "large.zip")
    size = export.stat().st_size
    assert size > 7_000_000
    reports: list[ExportReport] = []
    peak = peak_of(lambda: reports.append(verify_archive(export, key_of(repo))))
    assert reports[0].verified
    assert peak < size / 10


def test_a_large_manifest_is_read_a_line_at_a_time(tmp_path: Path) -> None:
    """Beyond what zipfile keeps of the archive's directory, verifying takes less memory
    than the manifest itself (loading it whole would take several times its size)."""
    repo = new_repo(tmp_path / "repo", users=1, groups=5000)
    export = export_of(repo, tmp_path / "many.zip")
    with zipfile.ZipFile(export) as archive:
        manifest_size = archive.getinfo("manifest.json").file_size

    def open_directory() -> None:
        with zipfile.ZipFile(export) as archive:
            archive.infolist()

    reports: list[ExportReport] = []
    directory = peak_of(open_directory)
    peak = peak_of(lambda: reports.append(verify_archive(export, key_of(repo))))
    assert reports[0].verified
    assert reports[0].members_verified == 5002
    loaded = peak_of(lambda: json.loads(read(export, "manifest.json")))
    assert peak - directory < 0.75 * manifest_size < loaded
