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
from dataclasses import dataclass, field

from entra_backup.store.backends.base import NotFound
from entra_backup.store.errors import IntegrityError
from entra_backup.store.files import (
    DATA_PREFIX,
    INDEX_PREFIX,
    content_name,
    pack_id_of,
)
from entra_backup.store.index import IndexedPack, load_index, write_index_file
from entra_backup.store.pack import PackEntry, pack_salt, read_header
from entra_backup.store.repository import Repository

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
    too, from the in-memory index alone (no pack is read).
    """
    repo.reload_index()
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
