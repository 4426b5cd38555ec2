"""``check``: prove the repository's structure, and optionally every byte of its data.

Structure (always): every index file opens and none is stale (superseded, i.e. replayed
or left by an interrupted prune); every indexed pack exists and is long enough; every
snapshot opens; every manifest, chunk and document a snapshot references is indexed; the
object counts match. With ``read_data`` (or a percentage of packs), each pack is read whole,
its SHA-256 compared with its name, its header opened, and every blob decrypted,
decompressed and re-hashed. Each damaged blob is then traced to every snapshot, type and
object that needs it.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass, field

from entra_backup.store.backends.base import NotFound
from entra_backup.store.backends.local import TEMP_PREFIX, LocalBackend
from entra_backup.store.damage import record_damage
from entra_backup.store.errors import IntegrityError
from entra_backup.store.files import DATA_PREFIX, content_name, pack_id_of, pack_name
from entra_backup.store.pack import read_header
from entra_backup.store.repository import Repository
from entra_backup.store.snapshot import Snapshot
from entra_backup.store.walk import document_references, type_structure_references

_MARKED = ("is marked damaged in the repository (a backup stores it again if the object "
           "still exists; 'entra-backup repair snapshots' records it as lost otherwise)")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong: ``kind`` is a stable name, ``item`` the file or blob concerned."""

    kind: str
    item: str
    message: str


@dataclass(frozen=True, slots=True)
class Affected:
    """A snapshot's type (and object, when known) that needs a damaged or missing blob."""

    snapshot: str
    type_name: str
    object_id: str | None
    blob: str
    reason: str


@dataclass
class CheckReport:
    """What ``check`` found."""

    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    damaged_blobs: dict[str, str] = field(default_factory=dict)
    affected: list[Affected] = field(default_factory=list)
    missing_blobs: set[str] = field(default_factory=set)
    snapshots_checked: int = 0
    packs_read: int = 0
    blobs_read: int = 0
    found_damage: list[tuple[str, bytes, str]] = field(default_factory=list)
    """(pack id, blob id, reason) of each blob this check found damaged by reading it."""
    damage_marker: str | None = None
    """The marker file recording ``found_damage`` in the repository, if one was written."""

    @property
    def ok(self) -> bool:
        """No problem was found (warnings such as unreferenced packs do not count)."""
        return not self.problems

    @property
    def affected_snapshots(self) -> set[str]:
        """Ids of every snapshot that is not fully readable."""
        return {item.snapshot for item in self.affected}


def check(
    repo: Repository, *, read_data: bool = False, read_data_subset: float | None = None,
    seed: int | None = None,
) -> CheckReport:
    """Check the repository; ``read_data_subset`` is a percentage of packs to read."""
    repo.reload_index()
    report = CheckReport()
    _check_index_files(repo, report)
    pack_sizes = {pack_id_of(i.name): i.size for i in repo.backend.list(DATA_PREFIX)}
    by_pack = _blobs_by_pack(repo)
    _check_packs_exist(repo, report, pack_sizes, by_pack)
    if read_data or read_data_subset is not None:
        chosen = _choose_packs(sorted(by_pack), 100.0 if read_data else read_data_subset, seed)
        for pack_id in chosen:
            if pack_id in pack_sizes:
                _read_pack(repo, report, pack_id, by_pack[pack_id])
    for snapshot_id in repo.snapshot_ids():
        _check_snapshot(repo, report, snapshot_id)
    if report.found_damage:
        # Recorded in the repository so that every client leaves these copies out of its
        # index: the next backup stores them again instead of deduplicating against them.
        report.damage_marker = record_damage(repo.backend, repo.keys, report.found_damage)
        repo.reload_index()
    return report


def _check_index_files(repo: Repository, report: CheckReport) -> None:
    loaded = repo.loaded_index
    for name, reason in sorted(repo.damage.unreadable.items()):
        report.warnings.append(Problem("damage-marker-unreadable", name, reason))
    for name, reason in sorted(loaded.damaged.items()):
        report.problems.append(Problem("index-damaged", name, reason))
    for name, newer in sorted(loaded.superseded.items()):
        report.problems.append(Problem(
            "index-stale", name,
            f"index {name} was superseded by {newer}: it was replayed or left behind by an "
            "interrupted prune, and is ignored (prune removes it)",
        ))


def _blobs_by_pack(repo: Repository) -> dict[str, list[bytes]]:
    by_pack: dict[str, list[bytes]] = defaultdict(list)
    for blob_id, location in repo.index.items():
        by_pack[location.pack_id].append(blob_id)
    return by_pack


def _check_packs_exist(
    repo: Repository, report: CheckReport, sizes: dict[str, int], by_pack: dict[str, list[bytes]]
) -> None:
    for pack_id, blob_ids in sorted(by_pack.items()):
        size = sizes.get(pack_id)
        if size is None:
            report.problems.append(Problem("pack-missing", pack_id, f"pack {pack_id} is missing"))
            for blob_id in blob_ids:
                report.damaged_blobs[blob_id.hex()] = f"its pack {pack_id} is missing"
            continue
        truncated = False
        for blob_id in blob_ids:
            location = repo.index.get(blob_id)
            assert location is not None
            if location.offset + location.length > size:
                report.damaged_blobs[blob_id.hex()] = f"pack {pack_id} is truncated"
                truncated = True
        if truncated:
            report.problems.append(Problem(
                "pack-truncated", pack_id, f"pack {pack_id} is shorter than its index says"
            ))
    _report_temporary_files(repo, report)
    for pack_id in sorted(set(sizes) - set(by_pack)):
        report.warnings.append(Problem(
            "pack-unreferenced", pack_id,
            "pack is in no index (left by an interrupted write; prune removes it)",
        ))


def _report_temporary_files(repo: Repository, report: CheckReport) -> None:
    """Partial files of writes that were killed (a local repository writes through them)."""
    if not isinstance(repo.backend, LocalBackend):
        return
    root = repo.backend.root
    for path in sorted(root.rglob(f"{TEMP_PREFIX}*")):
        if path.is_file():
            report.warnings.append(Problem(
                "temporary-file", path.relative_to(root).as_posix(),
                "partial file of a write that was interrupted; no snapshot uses it, and it "
                "can be deleted",
            ))


def _choose_packs(pack_ids: list[str], percent: float | None, seed: int | None) -> list[str]:
    if percent is None or percent >= 100:
        return pack_ids
    if percent <= 0:
        return []
    count = math.ceil(len(pack_ids) * percent / 100)
    return sorted(random.Random(seed).sample(pack_ids, count))


def _read_pack(repo: Repository, report: CheckReport, pack_id: str, blob_ids: list[bytes]) -> None:
    try:
        data = repo.backend.read(pack_name(pack_id))
    except NotFound:
        return
    report.packs_read += 1
    if content_name(data) != pack_id:
        report.problems.append(Problem(
            "pack-damaged", pack_id, f"pack {pack_id} does not match its content hash"
        ))
    try:
        read_header(repo.reader.codec, data, pack_name(pack_id))
    except IntegrityError as exc:
        report.problems.append(Problem("pack-header-damaged", pack_id, exc.message))
    for blob_id in blob_ids:
        location = repo.index.get(blob_id)
        assert location is not None
        record = data[location.offset : location.offset + location.length]
        report.blobs_read += 1
        try:
            if len(record) < location.length:
                raise IntegrityError(f"blob {blob_id.hex()} is cut off: pack {pack_id} is "
                                     "truncated")
            repo.reader.open(location, location.kind, blob_id, record, rehash=True)
        except IntegrityError as exc:
            report.damaged_blobs[blob_id.hex()] = exc.message
            report.problems.append(Problem("blob-damaged", blob_id.hex(), exc.message))
            report.found_damage.append((pack_id, blob_id, exc.message))


def _check_snapshot(repo: Repository, report: CheckReport, snapshot_id: str) -> None:
    try:
        snapshot = repo.load_snapshot(snapshot_id)
    except IntegrityError as exc:
        report.problems.append(Problem("snapshot-damaged", snapshot_id, exc.message))
        report.affected.append(Affected(snapshot_id, "*", None, "", exc.message))
        return
    report.snapshots_checked += 1
    for type_name, entry in sorted(snapshot.types.items()):
        if entry.lost:
            report.warnings.append(Problem(
                "objects-lost", f"{snapshot.id}/{type_name}",
                f"snapshot {snapshot.short_id} {type_name}: {len(entry.lost)} object(s) were "
                "recorded as lost by 'repair snapshots' (their data was damaged)",
            ))
        if entry.manifest is not None and _check_structure(repo, report, snapshot, type_name):
            _check_documents(repo, report, snapshot, type_name, entry.count)


def _check_structure(
    repo: Repository, report: CheckReport, snapshot: Snapshot, type_name: str
) -> bool:
    healthy = True
    try:
        for ref in type_structure_references(repo.manifests, snapshot, type_name):
            healthy &= _verify_reference(
                repo, report, snapshot, ref.type_name, object_id=None, blob_id=ref.blob_id
            )
    except IntegrityError as exc:
        _affect(report, snapshot, type_name, None, blob="", reason=f"manifest: {exc.message}")
        return False
    return healthy


def _check_documents(
    repo: Repository, report: CheckReport, snapshot: Snapshot, type_name: str, expected: int
) -> None:
    count = 0
    try:
        for ref in document_references(repo.manifests, snapshot, type_name):
            count += 1
            _verify_reference(
                repo, report, snapshot, type_name, object_id=ref.object_id, blob_id=ref.blob_id
            )
    except IntegrityError as exc:
        _affect(report, snapshot, type_name, None, blob="", reason=f"manifest: {exc.message}")
        return
    if count != expected:
        report.problems.append(Problem(
            "count-mismatch", f"{snapshot.id}/{type_name}",
            f"snapshot {snapshot.short_id} {type_name}: the manifest lists {count} objects, "
            f"the snapshot says {expected}",
        ))


def _verify_reference(
    repo: Repository, report: CheckReport, snapshot: Snapshot, type_name: str, *,
    object_id: str | None, blob_id: bytes,
) -> bool:
    blob = blob_id.hex()
    if blob_id not in repo.index and blob_id in repo.damage.blob_ids:
        if blob not in report.damaged_blobs:
            report.damaged_blobs[blob] = _MARKED
            report.problems.append(Problem("blob-damaged", blob, f"blob {blob} {_MARKED}"))
        _affect(report, snapshot, type_name, object_id, blob=blob, reason=_MARKED)
        return False
    if blob_id not in repo.index:
        if blob not in report.missing_blobs:
            report.missing_blobs.add(blob)
            report.problems.append(Problem("blob-missing", blob, f"blob {blob} is in no index"))
        _affect(report, snapshot, type_name, object_id, blob=blob, reason="blob is in no index")
        return False
    reason = report.damaged_blobs.get(blob)
    if reason is not None:
        _affect(report, snapshot, type_name, object_id, blob=blob, reason=reason)
        return False
    return True


def _affect(
    report: CheckReport, snapshot: Snapshot, type_name: str, object_id: str | None, *,
    blob: str, reason: str,
) -> None:
    report.affected.append(Affected(snapshot.id, type_name, object_id, blob, reason))

