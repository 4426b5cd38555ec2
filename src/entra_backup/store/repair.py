"""Rebuilding the index from the packs themselves (``repair index``).

Every pack ends with a header sealed under its own key that lists its blobs, so the packs
alone describe where each blob is. When index files are lost or damaged, the index is
rebuilt by reading every pack, opening its header (authenticated decryption: a pack whose
header does not open is reported and left out) and writing new index files that cover
every pack that does.

Order, so that a crash at any point loses nothing:

1. new index files are written, the *last* one superseding every index file present (and
   every name those superseded), exactly as prune does;
2. only then are the superseded index files deleted.

Until the last new file exists the old files still count (and the new ones only add
locations); from then on the new ones do. The caller holds the exclusive lock and passes
its ``ensure_held`` as ``guard``, called before every write and delete.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field, replace

from entra_backup.store.backends.base import NotFound
from entra_backup.store.blob import BlobCodec
from entra_backup.store.errors import IntegrityError
from entra_backup.store.files import (
    DATA_PREFIX,
    INDEX_PREFIX,
    SNAPSHOT_MAGIC,
    SNAPSHOT_PREFIX,
    content_name,
    pack_id_of,
    seal_file,
)
from entra_backup.store.index import IndexedPack, load_index, write_index_file
from entra_backup.store.manifest import write_manifest
from entra_backup.store.pack import PackEntry, pack_salt, read_header
from entra_backup.store.repository import Repository
from entra_backup.store.sink import BlobSink
from entra_backup.store.snapshot import Snapshot, TypeEntry, TypeStatus

PACKS_PER_INDEX_FILE = 256
"""Packs named by one rebuilt index file (about 30,000 blobs at 4 MiB packs)."""


@dataclass(frozen=True, slots=True)
class DamagedPack:
    """A pack whose header does not authenticate or parse; its blobs are not indexed."""

    pack_id: str
    reason: str


@dataclass
class IndexRepair:
    """What ``repair index`` found and did."""

    dry_run: bool
    packs_read: int = 0
    blobs_indexed: int = 0
    blobs_missing_from_index: int = 0
    blobs_dropped: int = 0
    """Blobs left out on purpose: locations marked damaged by ``check --read-data``."""
    packs_with_hash_mismatch: list[str] = field(default_factory=list)
    damaged_packs: list[DamagedPack] = field(default_factory=list)
    index_files_written: list[str] = field(default_factory=list)
    index_files_removed: list[str] = field(default_factory=list)


def rebuild_index(
    repo: Repository, *, guard: Callable[[], None], dry_run: bool = False,
) -> IndexRepair:
    """Rebuild the index from every pack's header; see the module docstring.

    Locations marked damaged (``check --read-data``) stay out of the new index.
    """
    repo.reload_index()
    report = IndexRepair(dry_run=dry_run)
    packs = _read_packs(repo, report, set(repo.damage.blobs))
    if not dry_run:
        _replace_index(repo, packs, guard, report)
    return report


def drop_damaged(
    repo: Repository, *, guard: Callable[[], None], dry_run: bool = False,
) -> IndexRepair:
    """Write an index without the locations marked damaged (``repair packs``).

    The live index already leaves them out in memory; this makes the index files say so
    too, from the in-memory index alone (no pack is read). When an index file is damaged
    the in-memory index is incomplete, so the index is rebuilt from the packs instead:
    superseding the damaged file must not lose the locations only it held.
    """
    repo.reload_index()
    if repo.loaded_index.damaged:
        return rebuild_index(repo, guard=guard, dry_run=dry_run)
    report = IndexRepair(dry_run=dry_run)
    by_pack: dict[str, list[PackEntry]] = defaultdict(list)
    for blob_id, location in repo.index.items():
        by_pack[location.pack_id].append(
            PackEntry(blob_id, location.kind, location.offset, location.length,
                      location.raw_length)
        )
    packs = []
    for pack_id, entries in sorted(by_pack.items()):
        salt = repo.index.salt_of(pack_id)
        assert salt is not None
        packs.append(IndexedPack(pack_id, salt, sorted(entries, key=lambda e: e.offset)))
    report.blobs_indexed = sum(len(pack.entries) for pack in packs)
    report.blobs_dropped = _marked_still_indexed(repo)
    if not dry_run and report.blobs_dropped:
        _replace_index(repo, packs, guard, report)
    return report


def _marked_still_indexed(repo: Repository) -> int:
    """Marked locations that the index files (read without the marks) still name."""
    unfiltered = load_index(repo.backend, repo.keys).index
    count = 0
    for pack_id, blob_id in repo.damage.blobs:
        location = unfiltered.get(blob_id)
        count += location is not None and location.pack_id == pack_id
    return count


def _replace_index(
    repo: Repository, packs: list[IndexedPack], guard: Callable[[], None], report: IndexRepair
) -> None:
    old_names = sorted({info.name for info in repo.backend.list(INDEX_PREFIX)})
    retired = set(repo.loaded_index.retired) | set(old_names)
    for start in range(0, max(len(packs), 1), PACKS_PER_INDEX_FILE):
        chunk = packs[start : start + PACKS_PER_INDEX_FILE]
        last = start + PACKS_PER_INDEX_FILE >= len(packs)
        guard()
        name = write_index_file(repo.backend, repo.keys, chunk, retired if last else ())
        report.index_files_written.append(name)
    for name in old_names:
        guard()
        with suppress(NotFound):
            repo.backend.delete(name)
        report.index_files_removed.append(name)
    repo.reload_index()


def _read_packs(
    repo: Repository, report: IndexRepair, exclude: set[tuple[str, bytes]]
) -> list[IndexedPack]:
    codec = repo.reader.codec
    packs: list[IndexedPack] = []
    for info in sorted(repo.backend.list(DATA_PREFIX), key=lambda item: item.name):
        pack_id = pack_id_of(info.name)
        try:
            data = repo.backend.read(info.name)
        except NotFound:
            continue
        report.packs_read += 1
        try:
            entries = read_header(codec, data, info.name)
            salt = pack_salt(data, info.name)
        except IntegrityError as exc:
            report.damaged_packs.append(DamagedPack(pack_id, exc.message))
            continue
        if content_name(data) != pack_id:
            # The header authenticates, so its blobs are still worth indexing: each one is
            # authenticated again when read, and check --read-data names the damaged ones.
            report.packs_with_hash_mismatch.append(pack_id)
        kept = [entry for entry in entries if (pack_id, entry.blob_id) not in exclude]
        report.blobs_dropped += len(entries) - len(kept)
        report.blobs_indexed += len(kept)
        report.blobs_missing_from_index += sum(
            1 for entry in kept if entry.blob_id not in repo.index
        )
        if kept:
            packs.append(IndexedPack(pack_id, salt, kept))
    return packs


@dataclass
class SnapshotRepair:
    """What ``repair snapshots`` found and did: old id to new id, and what each lost."""

    dry_run: bool
    snapshots_checked: int = 0
    rewritten: dict[str, str | None] = field(default_factory=dict)
    """Old snapshot id to its replacement (None in a dry run)."""
    lost: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    """Old snapshot id to type to the object ids lost (``*``: the whole type)."""


def rewrite_snapshots(
    repo: Repository, *, guard: Callable[[], None], dry_run: bool = False,
) -> SnapshotRepair:
    """Rewrite each snapshot that references blobs in no index (after ``repair packs``)
    without the lost objects, recording their ids in the new snapshot; then delete the
    old snapshot file. Nothing is dropped silently: the ids stay in ``TypeEntry.lost``.
    """
    repo.reload_index()
    report = SnapshotRepair(dry_run=dry_run)
    sink = BlobSink(repo.backend, BlobCodec(repo.keys, repo.load_dictionary), repo.index,
                    pack_size=repo.config.pack_size, guard=guard, index_every=repo.index_every)
    for snapshot in repo.snapshots():
        report.snapshots_checked += 1
        types, lost = _salvage(repo, snapshot, None if dry_run else sink)
        if not lost:
            continue
        report.lost[snapshot.id] = lost
        report.rewritten[snapshot.id] = None
        if not dry_run:
            sink.flush()
            repo.note_index_files(sink.written_files)
            report.rewritten[snapshot.id] = _replace_snapshot(repo, snapshot, types, guard)
    return report


def _salvage(
    repo: Repository, snapshot: Snapshot, sink: BlobSink | None
) -> tuple[dict[str, TypeEntry], dict[str, list[str]]]:
    types: dict[str, TypeEntry] = {}
    lost: dict[str, list[str]] = {}
    for type_name, entry in sorted(snapshot.types.items()):
        types[type_name] = entry
        if entry.manifest is None:
            continue
        try:
            entries = list(repo.manifests.entries(entry.manifest))
        except IntegrityError as exc:
            lost[type_name] = ["*"]
            types[type_name] = replace(
                entry, status=TypeStatus.FAILED, count=0, manifest=None,
                message=f"lost: its manifest could not be read ({exc.message})",
                lost=(*entry.lost, "*"),
            )
            continue
        kept = [(object_id, blob) for object_id, blob in entries if blob in repo.index]
        if len(kept) == len(entries):
            continue
        kept_ids = {object_id for object_id, _ in kept}
        gone = [object_id for object_id, _ in entries if object_id not in kept_ids]
        lost[type_name] = gone
        manifest = None if sink is None else _store_manifest(sink, kept)
        types[type_name] = replace(entry, count=len(kept), manifest=manifest,
                                   lost=(*entry.lost, *gone))
    return types, lost


def _store_manifest(sink: BlobSink, kept: list[tuple[str, bytes]]) -> bytes:
    return write_manifest(sink.put, lambda: iter(kept), len(kept), None)


def _replace_snapshot(
    repo: Repository, old: Snapshot, types: dict[str, TypeEntry], guard: Callable[[], None]
) -> str:
    new = replace(old, types=types, id="")
    data = seal_file(repo.keys, SNAPSHOT_MAGIC, new.encode())
    new_id = content_name(data)
    guard()
    repo.backend.create(SNAPSHOT_PREFIX + new_id, data)
    guard()
    repo.backend.delete(SNAPSHOT_PREFIX + old.id)
    repo.forget_cached(old.id)
    return new_id
