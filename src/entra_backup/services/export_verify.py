"""Verify an export archive in bounded memory: every file's hash, and the manifest's signature.

The manifest (format version 2, ``export_format``) is read a line at a time while its
SHA-256 is computed, and each listed file is hashed in chunks as its line is read, so
neither the manifest nor any file is ever held whole: memory grows only with the ZIP's
own directory (which :mod:`zipfile` keeps) and one set of the names already seen.

Exports of format version 1 (before signatures) are still read, by hash only: their
manifest is pretty-printed JSON, read whole, and their signature is reported missing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from entra_backup.services.export_format import (
    ALGORITHM,
    FILES_CLOSING,
    FILES_OPENING,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST_NAME,
    SIGNATURE_NAME,
    UNLISTED,
    ExportError,
    fingerprint,
    signed_message,
)

_CHUNK = 64 * 1024
_MAX_LINE = 1024 * 1024  # a header or one file record; anything longer is not ours
_MAX_ENVELOPE = 64 * 1024
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError)


@dataclass
class ExportReport:
    """What verifying one export found. ``verified`` only with a valid signature."""

    path: Path
    version: int
    header: dict[str, Any] = field(default_factory=dict)
    signature: str = "missing"  # valid, invalid, missing or unchecked
    signature_detail: str = ""
    signer_fingerprint: str | None = None
    members_verified: int = 0
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    altered: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        return self.signature == "valid" and not self.problems

    def reasons(self) -> list[str]:
        """Why the archive is not verified, signature first; empty when it is."""
        if self.verified:
            return []
        first = [] if self.signature == "valid" else [
            f"signature {self.signature}: {self.signature_detail}"]
        return first + self.problems

    def to_json(self) -> dict[str, Any]:
        snapshot = self.header.get("snapshot")
        return {
            "path": str(self.path),
            "verified": self.verified,
            "format_version": self.version,
            "repository": self.header.get("repository"),
            "tenant": self.header.get("tenant"),
            "snapshot": snapshot.get("id") if isinstance(snapshot, dict) else None,
            "signature": {"status": self.signature, "detail": self.signature_detail,
                          "key_fingerprint": self.signer_fingerprint},
            "members": {"verified": self.members_verified, "missing": self.missing,
                        "extra": self.extra, "altered": self.altered},
            "problems": self.problems,
        }


def verify_archive(path: Path, public_key: Ed25519PublicKey | None = None) -> ExportReport:
    """Check every file of the export at ``path`` and, with ``public_key``, its signature.

    Raise ExportError when ``path`` is no ZIP or holds no readable manifest, since then
    nothing can be checked at all; everything else found is in the report.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            return _Verifier(path, archive).run(public_key)
    except zipfile.BadZipFile as exc:
        raise ExportError(f"{path} is not a ZIP archive: {exc}") from exc
    except OSError as exc:
        raise ExportError(f"cannot read {path}: {exc}") from exc


class _Verifier:
    """One pass over one archive: the manifest's lines, each listed file as it comes."""

    def __init__(self, path: Path, archive: zipfile.ZipFile) -> None:
        self.path = path
        self.archive = archive
        self.seen: set[str] = set()
        self.report = ExportReport(path, FORMAT_VERSION)

    def run(self, public_key: Ed25519PublicKey | None) -> ExportReport:
        try:
            stream = self.archive.open(MANIFEST_NAME)
        except KeyError as exc:
            raise ExportError(f"{self.path} has no {MANIFEST_NAME}; it is not an export") from exc
        with stream:
            manifest_sha256 = self._read_manifest(stream)
        self._report_unlisted()
        if self.report.version == FORMAT_VERSION:
            self._check_signature(manifest_sha256, public_key)
        else:
            self.report.signature_detail = (
                f"format version {self.report.version} exports are not signed")
        return self.report

    def _read_manifest(self, stream: IO[bytes]) -> str:
        """Check every file the manifest lists; return the manifest's SHA-256."""
        digest = hashlib.sha256()
        first = _line(stream, digest, self.path)
        if first.rstrip() == b"{":  # version 1 was pretty-printed
            rest = stream.read()
            digest.update(rest)
            self._read_version_1(first + rest)
            return digest.hexdigest()
        self.report.header = self._header(first)
        readme = self.report.header.get("readme")
        if not isinstance(readme, dict) or not _is_file_record(readme):
            raise self._malformed("its README record is missing or malformed")
        self._check_record(readme)
        for record in self._records(stream, digest):
            self._check_record(record)
        return digest.hexdigest()

    def _header(self, line: bytes) -> dict[str, Any]:
        if not line.endswith(FILES_OPENING):
            self._check_format(_loads(line, self.path))  # names a foreign format first
            raise self._malformed("its first line does not open the file list")
        header = _loads(line[: -len(FILES_OPENING)] + b"}", self.path)
        self._check_format(header)
        return dict(header)

    def _records(self, stream: IO[bytes], digest: Any) -> Iterator[dict[str, Any]]:
        """The file records, one line each, every one but the last ending in a comma."""
        previous: bytes | None = None
        while (line := _line(stream, digest, self.path)) != FILES_CLOSING:
            comma_missing = previous is not None and not previous.endswith(b",")
            if comma_missing or not line.endswith(b"\n"):
                raise self._malformed("its file list is not closed properly")
            previous = line.rstrip(b"\n")
            record = _loads(previous.removesuffix(b","), self.path)
            if not _is_file_record(record):
                raise self._malformed("a file record is malformed")
            yield record
        if previous is not None and previous.endswith(b","):
            raise self._malformed("its file list ends with a comma")
        if stream.read(1):
            raise self._malformed("it goes on after its file list")

    def _read_version_1(self, data: bytes) -> None:
        """Format version 1: pretty-printed, read whole (such exports predate signing)."""
        manifest = _loads(data, self.path)
        self._check_format(manifest, version=1)
        files = manifest.get("files")
        if not isinstance(files, list) or not all(_is_file_record(item) for item in files):
            raise self._malformed("its file list is malformed")
        self.report.version = 1
        self.report.header = {key: value for key, value in manifest.items() if key != "files"}
        for record in files:
            self._check_record(record)

    def _check_format(self, header: object, version: int = FORMAT_VERSION) -> None:
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise ExportError(f"{self.path} is not an {FORMAT} archive")
        if header.get("version") != version:
            raise ExportError(f"{self.path} has export format version "
                              f"{header.get('version')!r}")

    def _malformed(self, what: str) -> ExportError:
        return ExportError(f"the {MANIFEST_NAME} of {self.path} is malformed: {what}")

    def _check_record(self, record: dict[str, Any]) -> None:
        """Hash one listed file now, so nothing listed is kept for later."""
        name = record["path"]
        report = self.report
        try:
            info = self.archive.getinfo(name)
        except KeyError:
            report.missing.append(name)
            report.problems.append(f"{name}: listed in the manifest but missing")
            return
        if info.filename in self.seen:
            report.altered.append(name)
            report.problems.append(f"{name}: listed more than once in the manifest")
            return
        self.seen.add(info.filename)  # the archive's own string: the set adds no copies
        problems = _check_file(self.archive, info, record["sha256"], record["size"])
        if problems:
            report.altered.append(name)
            report.problems.extend(problems)
        else:
            report.members_verified += 1

    def _report_unlisted(self) -> None:
        """Entries the manifest does not list, and names present more than once."""
        for info in self.archive.infolist():
            name = info.filename
            if info.is_dir():
                continue
            if self.archive.getinfo(name) is not info:  # a later entry of the same name
                self.report.extra.append(name)
                self.report.problems.append(f"{name}: present more than once")
            elif name not in self.seen and name not in UNLISTED:
                self.report.extra.append(name)
                self.report.problems.append(f"{name}: not listed in the manifest")

    def _check_signature(self, manifest_sha256: str, key: Ed25519PublicKey | None) -> None:
        report = self.report
        envelope = self._envelope()
        if envelope is None:
            return
        report.signer_fingerprint = envelope["key_fingerprint"]
        signed = report.header.get("signature")
        if envelope["manifest_sha256"] != manifest_sha256:
            _fail(report, f"{MANIFEST_NAME} is not the manifest that was signed "
                          "(it was changed after signing)")
        elif not isinstance(signed, dict) or signed.get("key_fingerprint") != \
                envelope["key_fingerprint"]:
            _fail(report, f"{MANIFEST_NAME} names another signing key than {SIGNATURE_NAME}")
        elif key is None:
            report.signature = "unchecked"
            report.signature_detail = ("no public key was given to check it against "
                                       f"(signed by key {envelope['key_fingerprint']})")
        elif fingerprint(key) != envelope["key_fingerprint"]:
            _fail(report, f"signed by key {envelope['key_fingerprint']}, not by the given key "
                          f"{fingerprint(key)} (another repository's?)")
        else:
            _check_ed25519(report, key, envelope, manifest_sha256)

    def _envelope(self) -> dict[str, str] | None:
        """The parsed ``manifest.sig``, or None with the reason recorded in the report."""
        try:
            info = self.archive.getinfo(SIGNATURE_NAME)
        except KeyError:
            self.report.signature_detail = f"the archive has no {SIGNATURE_NAME}"
            return None
        if info.file_size > _MAX_ENVELOPE:
            _fail(self.report, f"{SIGNATURE_NAME} is too large to be a signature")
            return None
        try:
            envelope = orjson.loads(self.archive.read(info))
        except (orjson.JSONDecodeError, *_READ_ERRORS) as exc:
            _fail(self.report, f"{SIGNATURE_NAME} cannot be read: {exc}")
            return None
        fields = ("algorithm", "key_fingerprint", "manifest_sha256", "signature")
        if not isinstance(envelope, dict) or not all(
                isinstance(envelope.get(name), str) for name in fields):
            _fail(self.report, f"{SIGNATURE_NAME} is malformed")
            return None
        if envelope["algorithm"] != ALGORITHM:
            _fail(self.report, f"unknown signature algorithm {envelope['algorithm']!r}")
            return None
        return envelope


def _check_ed25519(report: ExportReport, key: Ed25519PublicKey, envelope: dict[str, str],
                   manifest_sha256: str) -> None:
    try:
        key.verify(base64.b64decode(envelope["signature"], validate=True),
                   signed_message(manifest_sha256))
    except (InvalidSignature, binascii.Error, ValueError):
        _fail(report, "the signature does not match the manifest and the key")
        return
    report.signature = "valid"
    report.signature_detail = f"signed by key {envelope['key_fingerprint']}"


def _fail(report: ExportReport, detail: str) -> None:
    report.signature = "invalid"
    report.signature_detail = detail


def _line(stream: IO[bytes], digest: Any, path: Path) -> bytes:
    """One manifest line (hashed), refusing a line longer than any record of ours."""
    try:
        line = stream.readline(_MAX_LINE + 1)
    except _READ_ERRORS as exc:
        raise ExportError(f"the {MANIFEST_NAME} of {path} cannot be read: {exc}") from exc
    if len(line) > _MAX_LINE:
        raise ExportError(f"the {MANIFEST_NAME} of {path} is malformed: a line is too long")
    if not line:
        raise ExportError(f"the {MANIFEST_NAME} of {path} is malformed: it ends too early")
    digest.update(line)
    return line


def _loads(data: bytes, path: Path) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ExportError(f"the {MANIFEST_NAME} of {path} is not JSON: {exc}") from exc


def _is_file_record(item: object) -> bool:
    return (
        isinstance(item, dict)
        and isinstance(item.get("path"), str)
        and isinstance(item.get("sha256"), str)
        and isinstance(item.get("size"), int)
    )


def _check_file(archive: zipfile.ZipFile, info: zipfile.ZipInfo, sha256: str,
                size: int) -> list[str]:
    """Hash one entry in chunks, so a large entry is never held whole."""
    digest = hashlib.sha256()
    actual = 0
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
                actual += len(chunk)
    except _READ_ERRORS as exc:
        return [f"{info.filename}: cannot be read ({exc})"]
    problems = []
    if actual != size:
        problems.append(f"{info.filename}: size is {actual} bytes, the manifest says {size}")
    if digest.hexdigest() != sha256:
        problems.append(f"{info.filename}: SHA-256 does not match the manifest")
    return problems
