"""Export a snapshot as a ZIP of plain Graph JSON that a recipient can use without us.

The archive is meant to leave the product: for an auditor, a migration or a tenant owner
who wants their data. So it holds nothing of the repository format, only the objects as
Microsoft Graph returned them, one file each, a manifest with every file's SHA-256 and
size so the recipient can check that nothing was lost or changed on the way, and the
manifest's Ed25519 signature by the repository's export-signing key, so that a recipient
holding the repository's public key can tell the archive was not forged::

    README.txt               what the files are and how to verify them
    users/<object id>.json   one object, pretty-printed UTF-8 JSON with sorted keys
    groups/<object id>.json  ...
    manifest.json            format, repository, tenant, snapshot, options, types, files
    manifest.sig             the signature of manifest.json (written last)

Object ids and type names are percent-encoded in entry names when they hold anything but
letters, digits and ``-._~`` (and a leading dot), so no id can escape its folder; the
manifest maps every path back to its type and id.

The archive is written to a temporary file beside the destination, fsynced and renamed
over it, so a failure at any point leaves either the old destination or nothing.
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import orjson

from entra_backup import __version__
from entra_backup.domain.errors import UnknownObjectType
from entra_backup.domain.object_types import by_name
from entra_backup.services.export_format import (
    ALGORITHM,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST_NAME,
    README_NAME,
    SIGNATURE_NAME,
    ExportError,
    fingerprint,
    manifest_bytes,
    signature_envelope,
)
from entra_backup.services.export_verify import verify_archive
from entra_backup.store.errors import ObjectNotFound
from entra_backup.store.repository import Repository
from entra_backup.store.snapshot import Snapshot, TypeStatus

__all__ = ["ExportError", "ExportResult", "export_snapshot", "verify_export"]

_JSON_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS

README = """\
Entra ID directory export
=========================

This archive holds objects of one Microsoft Entra ID tenant, exported from one backup
snapshot by entra-backup. It needs no entra-backup to be read.

  <type>/<object id>.json  one directory object, exactly as Microsoft Graph returned it
                           (plain Graph JSON). Unless the export was made without them,
                           relationships (members, owners, manager, ...) are included as
                           navigation properties, as Graph shows them with $expand.
                           Characters other than letters, digits and -._~ in a type name
                           or id are percent-encoded in the file name.
  manifest.json            the repository, the tenant, the snapshot and its time,
                           whether the snapshot was partial (some object type could not
                           be backed up), the export options, per type the object count
                           and backup status, the SHA-256 of this README, and for
                           every object file its path, type, id, SHA-256 and size.
  manifest.sig             an Ed25519 signature of manifest.json's SHA-256, by the key
                           of the repository the export was made from.

To verify the archive, check that every file listed in manifest.json has the SHA-256 and
size given there, that no other file is present (besides manifest.json, manifest.sig and
this file), and that manifest.sig is a valid signature of manifest.json by the public key
the sender gives you through another channel ('entra-backup key export-public' prints
it). The manifest is one JSON document; verify-export.py in the entra-backup
documentation does all of this with Python 3 and the 'cryptography' package, and
'entra-backup verify-export' does it too.
"""


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What an export wrote; ``files`` counts every archive entry, manifest, signature and
    README too."""

    path: Path
    snapshot: str
    files: int
    objects: int
    bytes: int
    types: Mapping[str, int]
    partial: bool
    manifest_sha256: str
    key_fingerprint: str

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary, for the CLI's ``--json`` and the API."""
        return {
            "path": str(self.path),
            "snapshot": self.snapshot,
            "files": self.files,
            "objects": self.objects,
            "bytes": self.bytes,
            "types": dict(self.types),
            "partial": self.partial,
            "manifest_sha256": self.manifest_sha256,
            "key_fingerprint": self.key_fingerprint,
        }


@dataclass(frozen=True, slots=True)
class _Plan:
    """What to export, settled (and checked) before anything is written."""

    types: tuple[str, ...]
    targets: tuple[tuple[str, str], ...] | None
    relationships: bool
    options: dict[str, Any]


@dataclass
class _Written:
    files: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    readme: dict[str, Any] = field(default_factory=dict)
    entries: int = 0
    manifest_sha256: str = ""


def _now() -> datetime:
    return datetime.now(UTC)


def export_snapshot(
    repo: Repository,
    snapshot: Snapshot,
    destination: Path,
    *,
    types: Sequence[str] | None = None,
    object_ids: Sequence[str] | None = None,
    relationships: bool = True,
    clock: Callable[[], datetime] = _now,
) -> ExportResult:
    """Write ``snapshot`` (or some of its types or objects) to a ZIP at ``destination``.

    Every choice is checked before the first byte is written: a bad destination, an
    unknown or absent type and an object id found in no selected type all raise without
    leaving a file. ``relationships=False`` drops the captured navigation properties.
    """
    destination = Path(destination)
    _check_destination(destination)
    selected = _select_types(snapshot, types)
    targets = None
    if object_ids is not None:
        targets = _locate_objects(repo, snapshot, selected, object_ids)
    plan = _Plan(selected, targets, relationships, {
        "types": None if types is None else list(types),
        "object_ids": None if object_ids is None else list(object_ids),
        "relationships": relationships,
    })
    exported_at = clock()
    try:
        written, size = _write_atomically(
            destination, lambda handle: _write_archive(handle, repo, snapshot, plan, exported_at)
        )
    except OSError as exc:
        raise ExportError(f"cannot write the export {destination}: {exc}") from exc
    return ExportResult(
        path=destination, snapshot=snapshot.id, files=written.entries,
        objects=len(written.files), bytes=size, types=dict(written.counts),
        partial=_is_partial(snapshot), manifest_sha256=written.manifest_sha256,
        key_fingerprint=fingerprint(repo.keys.export_signing_key().public_key()),
    )


def verify_export(path: Path) -> list[str]:
    """Problems found in an export archive's files; an empty list means every file is intact.

    The files only, as before signatures existed: :func:`verify_archive` also checks the
    signature and reports by category. Raise ExportError when ``path`` is no ZIP or holds
    no readable manifest, since then nothing can be checked at all.
    """
    return verify_archive(path).problems


def _check_destination(destination: Path) -> None:
    """Refuse a destination we could not write, before spending time reading objects."""
    directory = destination.parent
    if destination.is_dir():
        raise ExportError(f"the destination {destination} is a directory; give a file name")
    if not directory.is_dir():
        raise ExportError(f"the destination's directory {directory} does not exist")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise ExportError(f"the destination's directory {directory} is not writable")


def _is_internal(type_name: str) -> bool:
    return type_name.startswith("_")


def _select_types(snapshot: Snapshot, requested: Sequence[str] | None) -> tuple[str, ...]:
    """The exported types: every tenant type of the snapshot, or the requested ones."""
    if requested is None:
        return tuple(sorted(name for name in snapshot.types if not _is_internal(name)))
    if not requested:
        raise ExportError("no object types were selected for export")
    chosen: list[str] = []
    for name in requested:
        if _is_internal(name):
            raise ExportError(f"{name!r} is internal bookkeeping, not tenant data; not exported")
        if name not in snapshot.types:
            by_name(name)
            raise ExportError(f"snapshot {snapshot.short_id} holds no {name!r} objects")
        if name not in chosen:
            chosen.append(name)
    return tuple(chosen)


def _locate_objects(
    repo: Repository, snapshot: Snapshot, types: tuple[str, ...], object_ids: Sequence[str]
) -> tuple[tuple[str, str], ...]:
    """(type, id) of every requested object; an id no selected type holds is an error."""
    if not object_ids:
        raise ExportError("no object ids were given for export")
    wanted = sorted(set(object_ids))
    found: list[tuple[str, str]] = []
    missing: list[str] = []
    for object_id in wanted:
        holders = [name for name in types if _holds(repo, snapshot, name, object_id)]
        found.extend((name, object_id) for name in holders)
        if not holders:
            missing.append(object_id)
    if missing:
        where = f"type {types[0]}" if len(types) == 1 else "any exported type"
        raise ExportError(
            f"snapshot {snapshot.short_id} has no object with id {', '.join(missing)} in {where}"
        )
    order = {name: position for position, name in enumerate(types)}
    return tuple(sorted(found, key=lambda item: (order[item[0]], item[1])))


def _holds(repo: Repository, snapshot: Snapshot, type_name: str, object_id: str) -> bool:
    if snapshot.types[type_name].manifest is None:
        return False
    try:
        repo.get(snapshot, type_name, object_id)
    except ObjectNotFound:
        return False
    return True


def _write_atomically(
    destination: Path, write: Callable[[IO[bytes]], _Written]
) -> tuple[_Written, int]:
    """Run ``write`` on a temporary file, make it durable, then rename it into place."""
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{destination.name}.", suffix=".partial", dir=destination.parent
    )
    try:
        with os.fdopen(descriptor, "w+b") as handle:
            written = write(handle)
            handle.flush()
            os.fsync(handle.fileno())
            size = os.fstat(handle.fileno()).st_size
        os.replace(temporary, destination)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_directory(destination.parent)
    return written, size


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable; only POSIX can open a directory for fsync."""
    if os.name != "posix":
        return
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _write_archive(
    handle: IO[bytes], repo: Repository, snapshot: Snapshot, plan: _Plan, exported_at: datetime
) -> _Written:
    """README first, each object as it is read, the manifest last (it lists them all)."""
    written = _Written()
    stamp = _zip_time(exported_at)
    readme = README.encode()
    written.readme = {"path": README_NAME, "sha256": hashlib.sha256(readme).hexdigest(),
                      "size": len(readme)}
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        _put(archive, README_NAME, readme, stamp)
        for type_name, object_id, document in _documents(repo, snapshot, plan):
            name = f"{_path_part(type_name)}/{_path_part(object_id)}.json"
            data = orjson.dumps(document, option=_JSON_OPTIONS) + b"\n"
            _put(archive, name, data, stamp)
            written.files.append({
                "path": name, "type": type_name, "id": object_id,
                "sha256": hashlib.sha256(data).hexdigest(), "size": len(data),
            })
            written.counts[type_name] = written.counts.get(type_name, 0) + 1
        key = repo.keys.export_signing_key()
        manifest = _manifest(repo.id, snapshot, plan, written, exported_at=exported_at,
                             key_fingerprint=fingerprint(key.public_key()))
        written.manifest_sha256 = hashlib.sha256(manifest).hexdigest()
        _put(archive, MANIFEST_NAME, manifest, stamp)
        _put(archive, SIGNATURE_NAME, signature_envelope(key, written.manifest_sha256), stamp)
    written.entries = len(written.files) + 3
    return written


def _documents(
    repo: Repository, snapshot: Snapshot, plan: _Plan
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(type, id, document) one at a time, relationships removed if asked."""
    if plan.targets is not None:
        for type_name, object_id in plan.targets:
            document = repo.get(snapshot, type_name, object_id)
            yield type_name, object_id, _shape(document, type_name, plan.relationships)
        return
    for type_name in plan.types:
        if snapshot.types[type_name].manifest is None:
            continue
        for object_id, document in repo.objects(snapshot, type_name):
            yield type_name, object_id, _shape(document, type_name, plan.relationships)


def _shape(document: dict[str, Any], type_name: str, relationships: bool) -> dict[str, Any]:
    """The document as stored, or without the navigation properties the backup captured."""
    if relationships:
        return document
    names = _relationship_names(type_name)
    if not names:
        return document
    return {key: value for key, value in document.items() if key not in names}


@functools.cache
def _relationship_names(type_name: str) -> frozenset[str]:
    """A type's captured navigation properties; none for a type the table does not know."""
    try:
        return frozenset(relationship.name for relationship in by_name(type_name).relationships)
    except UnknownObjectType:
        return frozenset()


def _path_part(value: str) -> str:
    """A ZIP path segment that cannot climb out of its folder or hide as a dot file."""
    encoded = quote(value, safe="")
    if encoded.startswith("."):
        encoded = "%2E" + encoded[1:]
    return encoded


def _zip_time(moment: datetime) -> tuple[int, int, int, int, int, int]:
    """ZIP timestamps are naive and start in 1980; use the export time in UTC."""
    utc = moment.astimezone(UTC) if moment.tzinfo else moment
    year, month, day, hour, minute, second = utc.timetuple()[:6]
    if year < 1980:
        return (1980, 1, 1, 0, 0, 0)
    return (year, month, day, hour, minute, second)


def _put(
    archive: zipfile.ZipFile, name: str, data: bytes,
    stamp: tuple[int, int, int, int, int, int],
) -> None:
    info = zipfile.ZipInfo(name, stamp)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, data)


def _is_partial(snapshot: Snapshot) -> bool:
    return any(entry.status is not TypeStatus.OK for entry in snapshot.types.values())


def _manifest(
    repository: str, snapshot: Snapshot, plan: _Plan, written: _Written, *,
    exported_at: datetime, key_fingerprint: str,
) -> bytes:
    """The recipient's description of the archive and the means to verify it.

    The repository, tenant and snapshot are in it, so the signature binds them too.
    """
    return manifest_bytes({
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "tool": {"name": "entra-backup", "version": __version__},
        "repository": repository,
        "signature": {"algorithm": ALGORITHM, "key_fingerprint": key_fingerprint,
                      "path": SIGNATURE_NAME},
        "tenant": snapshot.tenant,
        "snapshot": {"id": snapshot.id, "time": snapshot.time.isoformat()},
        "partial": _is_partial(snapshot),
        "incomplete_types": sorted(
            name for name, entry in snapshot.types.items()
            if entry.status is not TypeStatus.OK and not _is_internal(name)
        ),
        "exported_at": exported_at.isoformat(),
        "options": plan.options,
        "types": {
            name: {
                "status": snapshot.types[name].status.value,
                "count": snapshot.types[name].count,
                "exported": written.counts.get(name, 0),
                "message": snapshot.types[name].message,
            }
            for name in plan.types
        },
        "readme": written.readme,
    }, written.files)
