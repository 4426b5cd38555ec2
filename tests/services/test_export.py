"""Exporting a snapshot as a ZIP of plain Graph JSON, and verifying such an archive."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

import entra_backup
from entra_backup.domain.errors import UnknownObjectType
from entra_backup.services.export import ExportError, export_snapshot, verify_export
from entra_backup.store.backends.local import LocalBackend
from entra_backup.store.errors import IntegrityError
from entra_backup.store.keys.passphrase import allow_weak_kdf_for_tests
from entra_backup.store.repository import Repository
from entra_backup.store.snapshot import Snapshot
from tests.store._support import new_repository

allow_weak_kdf_for_tests()

EXPORTED_AT = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
USER = "#microsoft.graph.user"
ODD_ID = "../../outside/ünïcode id"


def user(number: int, manager: int | None = None) -> dict[str, Any]:
    """A user as Graph returns it, with the captured manager (or null)."""
    return {
        "id": f"u{number}",
        "displayName": f"Zoë {number}",
        "userPrincipalName": f"user{number}@contoso.example",
        "accountEnabled": number % 2 == 0,
        "manager": None if manager is None else {"@odata.type": USER, "id": f"u{manager}"},
    }


def group(number: int, members: list[int], owners: list[int]) -> dict[str, Any]:
    """A group with its members and owners inline, as $expand shows them."""
    return {
        "id": f"g{number}",
        "displayName": f"Group {number}",
        "securityEnabled": True,
        "members": [{"@odata.type": USER, "id": f"u{n}"} for n in members],
        "owners": [{"@odata.type": USER, "id": f"u{n}", "displayName": f"Zoë {n}"}
                   for n in owners],
    }


USERS = {f"u{n}": user(n, manager=None if n == 1 else 1) for n in range(1, 6)}
GROUPS = {"g1": group(1, [1, 2, 3], [1]), "g2": group(2, [], [4, 5])}
EXTENSIONS = {ODD_ID: {"id": ODD_ID, "members": ["kept: this type is not in the table"]}}
INTERNAL = {"state": {"id": "state", "secret": "never leaves the repository"}}


@pytest.fixture
def repo(tmp_path: Path) -> Repository:
    return new_repository(LocalBackend(tmp_path / "repo"))


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """The directory exports go to; tests look in it for stray temporary files."""
    directory = tmp_path / "out"
    directory.mkdir()
    return directory


def commit(repo: Repository, *, fail_devices: bool = False) -> Snapshot:
    with repo.writer(tenant="contoso") as writer:
        for object_id, document in USERS.items():
            writer.add("users", object_id, document)
        for object_id, document in GROUPS.items():
            writer.add("groups", object_id, document)
        for object_id, document in EXTENSIONS.items():
            writer.add("extensions", object_id, document)
        writer.add("_internal", "state", INTERNAL["state"])
        if fail_devices:
            writer.fail("devices", "403 Authorization_RequestDenied")
        return writer.commit()


@pytest.fixture
def snapshot(repo: Repository) -> Snapshot:
    return commit(repo)


def export(repo: Repository, snapshot: Snapshot, path: Path, **options: Any) -> Any:
    return export_snapshot(repo, snapshot, path, clock=lambda: EXPORTED_AT, **options)


def manifest_of(path: Path) -> dict[str, Any]:
    with zipfile.ZipFile(path) as archive:
        loaded: dict[str, Any] = json.loads(archive.read("manifest.json"))
        return loaded


def exported_objects(path: Path) -> dict[tuple[str, str], Any]:
    """(type, id) -> the loaded JSON of every object file, found through the manifest."""
    with zipfile.ZipFile(path) as archive:
        files = json.loads(archive.read("manifest.json"))["files"]
        return {(item["type"], item["id"]): json.loads(archive.read(item["path"]))
                for item in files}


def test_a_tenant_export_holds_every_object_exactly_as_stored(
    repo: Repository, snapshot: Snapshot, out: Path
) -> None:
    result = export(repo, snapshot, out / "contoso.zip")
    stored = {(name, object_id): document
              for name in ("users", "groups", "extensions")
              for object_id, document in repo.objects(snapshot, name)}
    assert exported_objects(out / "contoso.zip") == stored
    assert result.objects == len(stored) == 8
    assert result.types == {"users": 5, "groups": 2, "extensions": 1}
    assert result.files == 11
    assert result.bytes == (out / "contoso.zip").stat().st_size
    with zipfile.ZipFile(out / "contoso.zip") as archive:
        infos = archive.infolist()
        data = archive.read("users/u2.json")
    assert all(info.compress_type == zipfile.ZIP_DEFLATED for info in infos)
    assert data == orjson.dumps(USERS["u2"], option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS
                                ) + b"\n"
    assert "Zoë 2".encode() in data
    assert os.listdir(out) == ["contoso.zip"]


def test_files_are_named_by_type_and_id_and_the_manifest_comes_last(
    repo: Repository, snapshot: Snapshot, out: Path
) -> None:
    export(repo, snapshot, out / "contoso.zip")
    with zipfile.ZipFile(out / "contoso.zip") as archive:
        names = archive.namelist()
        readme = archive.read("README.txt").decode()
    assert names[0] == "README.txt"
    assert names[-2:] == ["manifest.json", "manifest.sig"]
    assert "users/u1.json" in names
    assert "groups/g2.json" in names
    assert "SHA-256" in readme
    assert "manifest.json" in readme


def test_an_id_with_slashes_stays_inside_its_type_folder(
    repo: Repository, snapshot: Snapshot, out: Path, tmp_path: Path
) -> None:
    export(repo, snapshot, out / "contoso.zip", types=["extensions"])
    (entry,) = manifest_of(out / "contoso.zip")["files"]
    assert entry["id"] == ODD_ID
    assert entry["path"].startswith("extensions/")
    assert entry["path"].count("/") == 1
    target = tmp_path / "unpacked"
    with zipfile.ZipFile(out / "contoso.zip") as archive:
        archive.extractall(target)
    extracted = list((target / "extensions").iterdir())
    assert len(extracted) == 1
    assert json.loads(extracted[0].read_bytes()) == EXTENSIONS[ODD_ID]


def test_internal_types_are_never_exported(
    repo: Repository, snapshot: Snapshot, out: Path
) -> None:
    export(repo, snapshot, out / "all.zip")
    with zipfile.ZipFile(out / "all.zip") as archive:
        assert not any(name.startswith("_") for name in archive.namelist())
        assert b"never leaves" not in b"".join(archive.read(n) for n in archive.namelist())
    manifest = manifest_of(out / "all.zip")
    assert set(manifest["types"]) == {"users", "groups", "extensions"}
    with pytest.raises(ExportError, match="_internal"):
        export(repo, snapshot, out / "internal.zip", types=["_internal"])
    with pytest.raises(ExportError, match="state"):
        export(repo, snapshot, out / "internal.zip", object_ids=["state"])
    assert os.listdir(out) == ["all.zip"]


def test_a_type_level_export_holds_only_the_chosen_types(
    repo: Repository, snapshot: Snapshot, out: Path
) -> None:
    result = export(repo, snapshot, out / "groups.zip", types=["groups"])
    assert exported_objects(out / "groups.zip") == {("groups", k): v for k, v in GROUPS.items()}
    assert result.types == {"groups": 2}
    manifest = manifest_of(out / "groups.zip")
    assert list(manifest["types"]) == ["groups"]
    assert manifest["options"] == {"types": ["groups"], "object_ids": None,
                                   "relationships": True}


def test_an_object_level_export_holds_only_the_chosen_objects(
    repo: Repository, snapshot: Snapshot, out: Path
) -> None:
    result = export(repo, snapshot, out / "two.zip", object_ids=["u3", "g1", "u3"])
    assert exported_objects(out / "two.zip") == {
        ("users", "u3"): USERS["u3"], ("groups", "g1"): GROUPS["g1"],
    }
    assert result.objects == 2
    assert manifest_of(out / "two.zip")["options"]["object_ids"] == ["u3", "g1", "u3"]
    assert verify_export(out / "two.zip") == []


def test_an_object_is_looked_up_only_in_the_chosen_types(
    repo: Repository, snapshot: Snapshot, out: Path
) -> None:
    export(repo, snapshot, out / "u.zip", types=["users"], object_ids=["u4"])
    assert exported_objects(out / "u.zip") == {("users", "u4"): USERS["u4"]}
    with pytest.raises(ExportError, match="g1"):
        export(repo, snapshot, out / "g.zip", types=["users"], object_ids=["g1"])
    assert os.listdir(out) == ["u.zip"]


def test_without_relationships_members_owners_and_manager_are_removed(
    repo: Repository, snapshot: Snapshot, out: Path
) -> None:
    export(repo, snapshot, out / "plain.zip", relationships=False)
    objects = exported_objects(out / "plain.zip")
    for (type_name, _), document in objects.items():
        if type_name in ("users", "groups"):
            assert not {"members", "owners", "manager"} & set(document)
    assert objects[("groups", "g1")] == {
        "id": "g1", "displayName": "Group 1", "securityEnabled": True,
    }
    assert objects[("users", "u2")]["userPrincipalName"] == "user2@contoso.example"
    assert objects[("extensions", ODD_ID)] == EXTENSIONS[ODD_ID]
    assert manifest_of(out / "plain.zip")["options"]["relationships"] is False
    assert verify_export(out / "plain.zip") == []


def test_the_manifest_describes_the_snapshot_and_every_file(
    repo: Repository, snapshot: Snapshot, out: Path
) -> None:
    result = export(repo, snapshot, out / "contoso.zip")
    manifest = manifest_of(out / "contoso.zip")
    assert manifest["format"] == "entra-backup-export"
    assert manifest["version"] == 2
    assert manifest["repository"] == repo.id
    assert manifest["tool"]["version"] == entra_backup.__version__
    assert manifest["tenant"] == "contoso"
    assert manifest["snapshot"] == {"id": snapshot.id, "time": snapshot.time.isoformat()}
    assert manifest["exported_at"] == EXPORTED_AT.isoformat()
    assert manifest["partial"] is False
    assert manifest["types"]["users"] == {"status": "ok", "count": 5, "exported": 5,
                                          "message": None}
    assert manifest["types"]["groups"]["count"] == 2
    with zipfile.ZipFile(out / "contoso.zip") as archive:
        for item in manifest["files"]:
            data = archive.read(item["path"])
            assert item["size"] == len(data)
            assert item["sha256"] == hashlib.sha256(data).hexdigest()
        listed = {item["path"] for item in manifest["files"]}
        assert set(archive.namelist()) - listed == {"manifest.json", "manifest.sig",
                                                    "README.txt"}
        readme = archive.read("README.txt")
        manifest_bytes = archive.read("manifest.json")
    assert len(manifest["files"]) == 8
    assert manifest["readme"] == {"path": "README.txt", "size": len(readme),
                                  "sha256": hashlib.sha256(readme).hexdigest()}
    assert result.manifest_sha256 == hashlib.sha256(manifest_bytes).hexdigest()
    assert verify_export(out / "contoso.zip") == []
    summary = json.loads(json.dumps(result.to_json()))
    assert summary["objects"] == 8
    assert summary["path"] == str(out / "contoso.zip")
    assert summary["types"] == {"users": 5, "groups": 2, "extensions": 1}


def rewrite(source: Path, target: Path, changes: dict[str, bytes | None]) -> None:
    """Copy a ZIP, replacing (or, for None, dropping) the named entries."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            if info.filename not in changes:
                new.writestr(info, old.read(info))
            elif changes[info.filename] is not None:
                new.writestr(info.filename, changes[info.filename] or b"")


def test_verify_reports_a_tampered_a_missing_and_an_extra_file(
    repo: Repository, snapshot: Snapshot, out: Path, tmp_path: Path
) -> None:
    export(repo, snapshot, out / "contoso.zip")
    tampered = tmp_path / "tampered.zip"
    forged = dict(USERS["u2"], displayName="Mallory")
    rewrite(out / "contoso.zip", tampered, {"users/u2.json": orjson.dumps(forged)})
    problems = verify_export(tampered)
    assert len(problems) >= 1
    assert all(problem.startswith("users/u2.json") for problem in problems)

    same_size = tmp_path / "same-size.zip"
    with zipfile.ZipFile(out / "contoso.zip") as archive:
        original = archive.read("users/u3.json")
    other_manager = original.replace(b'"u1"', b'"u7"')
    assert other_manager != original
    rewrite(out / "contoso.zip", same_size, {"users/u3.json": other_manager})
    assert verify_export(same_size) == ["users/u3.json: SHA-256 does not match the manifest"]

    missing = tmp_path / "missing.zip"
    rewrite(out / "contoso.zip", missing, {"groups/g1.json": None})
    assert verify_export(missing) == ["groups/g1.json: listed in the manifest but missing"]

    extra = tmp_path / "extra.zip"
    shutil.copy(out / "contoso.zip", extra)
    with zipfile.ZipFile(extra, "a") as archive:
        archive.writestr("users/u9.json", b"{}")
    assert verify_export(extra) == ["users/u9.json: not listed in the manifest"]


def test_verify_refuses_what_is_not_an_export(tmp_path: Path) -> None:
    not_zip = tmp_path / "notes.zip"
    not_zip.write_text("just text")
    with pytest.raises(ExportError, match="not a ZIP"):
        verify_export(not_zip)
    no_manifest = tmp_path / "other.zip"
    with zipfile.ZipFile(no_manifest, "w") as archive:
        archive.writestr("users/u1.json", b"{}")
    with pytest.raises(ExportError, match=r"manifest\.json"):
        verify_export(no_manifest)


def test_an_unknown_object_id_is_named_and_nothing_is_written(
    repo: Repository, snapshot: Snapshot, out: Path
) -> None:
    with pytest.raises(ExportError, match="no-such-id") as raised:
        export(repo, snapshot, out / "x.zip", object_ids=["u1", "no-such-id"])
    assert raised.value.exit_code == 13
    assert os.listdir(out) == []


def test_an_unknown_or_absent_type_is_named_and_nothing_is_written(
    repo: Repository, snapshot: Snapshot, out: Path
) -> None:
    with pytest.raises(UnknownObjectType, match="gadgets"):
        export(repo, snapshot, out / "x.zip", types=["users", "gadgets"])
    with pytest.raises(ExportError, match="devices"):
        export(repo, snapshot, out / "x.zip", types=["devices"])
    assert os.listdir(out) == []


def test_a_missing_directory_is_refused(
    repo: Repository, snapshot: Snapshot, tmp_path: Path
) -> None:
    destination = tmp_path / "nowhere" / "x.zip"
    with pytest.raises(ExportError, match="does not exist"):
        export(repo, snapshot, destination)
    assert not destination.parent.exists()


def test_a_directory_as_destination_is_refused(
    repo: Repository, snapshot: Snapshot, out: Path
) -> None:
    (out / "folder").mkdir()
    with pytest.raises(ExportError, match="is a directory"):
        export(repo, snapshot, out / "folder")
    assert os.listdir(out / "folder") == []
    assert os.listdir(out) == ["folder"]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root (or a non-POSIX system) ignores directory permissions")
def test_a_read_only_directory_is_refused(
    repo: Repository, snapshot: Snapshot, out: Path
) -> None:
    out.chmod(0o555)
    try:
        with pytest.raises(ExportError, match="not writable"):
            export(repo, snapshot, out / "x.zip")
        assert os.listdir(out) == []
    finally:
        out.chmod(0o755)


def failing_after(repo: Repository, monkeypatch: pytest.MonkeyPatch, count: int) -> None:
    """Make the repository's object stream break after ``count`` objects."""
    real = repo.objects

    def objects(snapshot: Snapshot, type_name: str, **options: Any) -> Iterator[Any]:
        for number, item in enumerate(real(snapshot, type_name, **options)):
            if number == count:
                raise IntegrityError("pack 1234 failed authentication")
            yield item

    monkeypatch.setattr(repo, "objects", objects)


def test_a_failure_mid_export_leaves_no_file(
    repo: Repository, snapshot: Snapshot, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing_after(repo, monkeypatch, 2)
    with pytest.raises(IntegrityError):
        export(repo, snapshot, out / "x.zip", types=["users"])
    assert os.listdir(out) == []


def test_a_failure_mid_export_leaves_an_earlier_export_unchanged(
    repo: Repository, snapshot: Snapshot, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export(repo, snapshot, out / "x.zip")
    before = (out / "x.zip").read_bytes()
    failing_after(repo, monkeypatch, 2)
    with pytest.raises(IntegrityError):
        export(repo, snapshot, out / "x.zip", types=["users"])
    assert (out / "x.zip").read_bytes() == before
    assert os.listdir(out) == ["x.zip"]


def test_a_second_export_replaces_the_first(
    repo: Repository, snapshot: Snapshot, out: Path
) -> None:
    export(repo, snapshot, out / "x.zip")
    export(repo, snapshot, out / "x.zip", types=["groups"])
    assert set(manifest_of(out / "x.zip")["types"]) == {"groups"}
    assert os.listdir(out) == ["x.zip"]


def test_objects_are_written_as_they_are_read(
    repo: Repository, snapshot: Snapshot, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    real_objects = repo.objects
    real_writestr = zipfile.ZipFile.writestr

    def objects(snapshot: Snapshot, type_name: str, **options: Any) -> Iterator[Any]:
        for object_id, document in real_objects(snapshot, type_name, **options):
            events.append(f"read {object_id}")
            yield object_id, document

    def writestr(self: zipfile.ZipFile, info: Any, data: Any, *args: Any, **kw: Any) -> None:
        name = info.filename if isinstance(info, zipfile.ZipInfo) else info
        events.append(f"write {name}")
        real_writestr(self, info, data, *args, **kw)

    monkeypatch.setattr(repo, "objects", objects)
    monkeypatch.setattr(zipfile.ZipFile, "writestr", writestr)
    export(repo, snapshot, out / "x.zip", types=["users"])
    expected = ["write README.txt"]
    for number in range(1, 6):
        expected += [f"read u{number}", f"write users/u{number}.json"]
    assert events == [*expected, "write manifest.json", "write manifest.sig"]


def test_a_partial_snapshot_is_marked_partial(repo: Repository, out: Path) -> None:
    snapshot = commit(repo, fail_devices=True)
    result = export(repo, snapshot, out / "partial.zip")
    manifest = manifest_of(out / "partial.zip")
    assert result.partial is True
    assert manifest["partial"] is True
    assert manifest["incomplete_types"] == ["devices"]
    assert manifest["types"]["devices"] == {
        "status": "failed", "count": 0, "exported": 0,
        "message": "403 Authorization_RequestDenied",
    }
    assert manifest["types"]["users"]["status"] == "ok"
    assert verify_export(out / "partial.zip") == []
    users_only = export(repo, snapshot, out / "users.zip", types=["users"])
    assert users_only.partial is True
    assert manifest_of(out / "users.zip")["partial"] is True
