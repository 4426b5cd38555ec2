"""``prune``: remove the data no snapshot references, in two phases.

It refuses to run unless a structural ``check`` passes, because deleting on the basis of a
damaged index could delete the only copy of something. Then, holding the lock:

* **mark**: every blob reachable from any snapshot, and every compression dictionary
  (a document blob names its dictionary only inside its ciphertext, so dictionaries,
  a few KiB each, are kept for good);
* **plan**: each indexed pack is kept (used enough), repacked (more than
  ``repack_threshold`` of its bytes unused) or deleted (nothing used); packs in no index
  are deleted too;
* **phase 1, write**: used blobs of repacked packs are copied into new packs; new index
  files listing every kept and new pack are written, the last one *superseding* every
  index file present (and every name those superseded). Until that last file exists the
  old index is authoritative; from then on the new one is. Either way every snapshot's
  blobs are indexed and present;
* **phase 2, delete**: the superseded index files, then the unused and repacked packs.
  Nothing live refers to them any more, so a crash part-way leaves only garbage that the
  next prune removes.

Under S3 Object Lock a file still inside its retention period cannot be deleted, and every
backup of the last retention period wrote such files. Deleting around them must not leave
the repository in a state ``check`` rejects, so, when the backend can tell a file's
retention (:class:`RetentionProbe`), the plan is adjusted before anything is written:

* a live index file still retained is neither superseded nor deleted: it stays live
  (its entries are also in the new index; a blob indexed twice keeps one location), and
  so do the index files the repack phase itself writes;
* a pack such an index file lists, or a pack that is itself retained, is kept as it is
  instead of being repacked or deleted (otherwise the live index would point at a missing
  pack, or repacking would store its blobs twice);
* those packs are reported in ``PruneResult.retained``; a later prune, after their
  retention ends, reclaims them.

A delete the storage refuses anyway (no probe, or a retention set by someone else) is
also recorded in ``retained`` and skipped; the file is then unreferenced garbage.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from entra_backup.store.backends.base import Backend, NotFound, ObjectLocked
from entra_backup.store.blob import BlobCodec, BlobKind
from entra_backup.store.check import check
from entra_backup.store.errors import CheckFailed
from entra_backup.store.files import (
    DATA_PREFIX,
    INDEX_MAGIC,
    INDEX_PREFIX,
    open_file,
    pack_id_of,
    pack_name,
)
from entra_backup.store.index import BlobIndex, IndexedPack, decode_index, write_index_file
from entra_backup.store.lock import RepositoryLock
from entra_backup.store.pack import PackEntry
from entra_backup.store.repository import Repository
from entra_backup.store.sink import BlobSink
from entra_backup.store.walk import all_references

DEFAULT_REPACK_THRESHOLD = 0.2
_PACKS_PER_INDEX = 64
_PRUNE_REPAIRS = frozenset({"index-stale"})
"""Problems prune itself repairs: stale index files are ignored on load and deleted here."""


@runtime_checkable
class RetentionProbe(Protocol):
    """A backend that can say until when storage retention (Object Lock) holds a file."""

    def retained_until(self, name: str) -> datetime | None:
        """The end of the file's retention, or None if it may be deleted now."""


@dataclass
class PrunePlan:
    """What prune will do."""

    keep: list[str] = field(default_factory=list)
    repack: list[str] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)
    used_blobs: int = 0
    unused_blobs: int = 0
    unused_bytes: int = 0
    used: set[bytes] = field(default_factory=set, repr=False)
    pack_sizes: dict[str, int] = field(default_factory=dict, repr=False)
    held: list[str] = field(default_factory=list)
    """Packs that would be repacked or deleted but are retained (kept as they are)."""
    locked_indexes: set[str] = field(default_factory=set)
    """Live index files under retention: left live, not superseded."""
    probed: bool = False
    """Whether retention was asked (the backend locks what it writes)."""

    def bytes_of(self, pack_ids: list[str]) -> int:
        """Stored size of these packs (0 for a pack listed in an index but missing)."""
        return sum(self.pack_sizes.get(pack_id, 0) for pack_id in pack_ids)


@dataclass
class PruneResult:
    """What prune did."""

    plan: PrunePlan
    deleted_packs: int = 0
    deleted_bytes: int = 0
    deleted_indexes: int = 0
    repacked_blobs: int = 0
    written_packs: int = 0
    written_bytes: int = 0
    retained: list[str] = field(default_factory=list)
    """Files Object Lock kept from being deleted (a later prune retries them)."""


def prune(
    repo: Repository,
    *,
    lock: RepositoryLock | None = None,
    repack_threshold: float = DEFAULT_REPACK_THRESHOLD,
    dry_run: bool = False,
) -> PruneResult:
    """Remove unreferenced data; raise CheckFailed on a repository that fails ``check``."""
    own = lock is None
    held = lock if lock is not None else RepositoryLock(repo.backend)
    if own:
        held.acquire()
        held.start_refreshing()
    try:
        problems = [p for p in check(repo).problems if p.kind not in _PRUNE_REPAIRS]
        if problems:
            first = problems[0]
            raise CheckFailed(
                f"refusing to prune: check found {len(problems)} problem(s), "
                f"first: {first.kind} {first.item}: {first.message}"
            )
        plan = make_plan(repo, _mark(repo), repack_threshold)
        if isinstance(repo.backend, RetentionProbe):
            hold_retained(repo, plan, repo.backend)
        result = PruneResult(plan)
        result.retained.extend(pack_name(pack_id) for pack_id in plan.held)
        if not dry_run:
            _execute(repo, plan, result, held.ensure_held)
        return result
    finally:
        if own:
            held.release()


def _mark(repo: Repository) -> set[bytes]:
    used: set[bytes] = set()
    for snapshot in repo.snapshots():
        for reference in all_references(repo.manifests, snapshot):
            used.add(reference.blob_id)
    return used


def make_plan(repo: Repository, used: set[bytes], repack_threshold: float) -> PrunePlan:
    """Sort every pack into keep, repack or delete."""
    plan = PrunePlan()
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for blob_id, location in repo.index.items():
        bucket = totals[location.pack_id]
        bucket[0] += location.length
        if blob_id in used or location.kind == BlobKind.DICTIONARY:
            bucket[1] += location.length
            plan.used_blobs += 1
        else:
            plan.unused_blobs += 1
            plan.unused_bytes += location.length
    for pack_id, (total, in_use) in sorted(totals.items()):
        if in_use == 0:
            plan.delete.append(pack_id)
        elif total - in_use > repack_threshold * total:
            plan.repack.append(pack_id)
        else:
            plan.keep.append(pack_id)
    plan.pack_sizes = {pack_id_of(info.name): info.size
                       for info in repo.backend.list(DATA_PREFIX)}
    plan.delete.extend(sorted(set(plan.pack_sizes) - set(totals)))
    plan.used = used
    return plan


def hold_retained(repo: Repository, plan: PrunePlan, probe: RetentionProbe) -> None:
    """Keep what storage retention forbids deleting (see the module docstring)."""
    plan.probed = True
    # Every index file present, not only those loaded: this process may have written some.
    present = {info.name for info in repo.backend.list(INDEX_PREFIX)}
    plan.locked_indexes = {name for name in present - repo.loaded_index.retired
                           if probe.retained_until(name) is not None}
    pinned: set[str] = set()
    for name in plan.locked_indexes:
        data = open_file(repo.keys, INDEX_MAGIC, repo.backend.read(name), name)
        pinned.update(pack.pack_id for pack in decode_index(data, name)[0])
    indexed = repo.index.pack_ids()
    for pack_id in [*plan.repack, *plan.delete]:
        if pack_id in pinned or probe.retained_until(pack_name(pack_id)) is not None:
            plan.held.append(pack_id)
    held = set(plan.held)
    plan.repack = [pack_id for pack_id in plan.repack if pack_id not in held]
    plan.delete = [pack_id for pack_id in plan.delete if pack_id not in held]
    plan.keep = sorted([*plan.keep, *(held & indexed)])


def _execute(
    repo: Repository, plan: PrunePlan, result: PruneResult, guard: Callable[[], None]
) -> None:
    present = {info.name for info in repo.backend.list(INDEX_PREFIX)}
    fresh = BlobIndex()
    sink = BlobSink(repo.backend, BlobCodec(repo.keys), fresh,
                    pack_size=repo.config.pack_size, guard=guard)
    to_copy = _used_by_pack(repo, set(plan.repack), plan.used)
    for pack_id in plan.repack:
        result.repacked_blobs += _copy_used(repo, sink, pack_id, to_copy[pack_id])
    sink.flush()
    written = _packs_of(fresh)
    result.written_packs = len(written)
    result.written_bytes = _stored_size(repo.backend, {pack.pack_id for pack in written})
    old_indexes = _supersede(repo, plan, present, written, guard)
    for name in old_indexes:
        guard()
        result.deleted_indexes += _delete(repo.backend, name, result.retained)
    for pack_id in [*plan.repack, *plan.delete]:
        guard()
        if _delete(repo.backend, pack_name(pack_id), result.retained):
            result.deleted_packs += 1
            result.deleted_bytes += plan.pack_sizes.get(pack_id, 0)
    repo.reload_index()


def _supersede(repo: Repository, plan: PrunePlan, present: set[str],
               written: list[IndexedPack], guard: Callable[[], None]) -> list[str]:
    """Write the new index superseding the old files; return the files to delete."""
    # The index files the repack itself wrote are retained too under Object Lock: they stay
    # live (their entries are repeated in the new index) instead of failing to delete.
    listed = {info.name for info in repo.backend.list(INDEX_PREFIX)}
    stay_live = plan.locked_indexes | (listed - present if plan.probed else set())
    old_indexes = sorted(listed - stay_live)
    supersedes = set(old_indexes) | repo.loaded_index.retired
    if old_indexes or written:  # else every index file is retained and still complete
        _write_indexes(repo, _kept_packs(repo, plan.keep) + written, supersedes, guard)
    return old_indexes


def _stored_size(backend: Backend, pack_ids: set[str]) -> int:
    if not pack_ids:
        return 0
    return sum(info.size for info in backend.list(DATA_PREFIX)
               if pack_id_of(info.name) in pack_ids)


def _used_by_pack(repo: Repository, packs: set[str], used: set[bytes]) -> dict[str, list[bytes]]:
    found: dict[str, list[bytes]] = defaultdict(list)
    for blob_id, location in repo.index.items():
        if location.pack_id in packs and (blob_id in used or location.kind == BlobKind.DICTIONARY):
            found[location.pack_id].append(blob_id)
    return found


def _copy_used(repo: Repository, sink: BlobSink, pack_id: str, blob_ids: list[bytes]) -> int:
    data = repo.backend.read(pack_name(pack_id))
    for blob_id in blob_ids:
        location = repo.index.get(blob_id)
        assert location is not None
        record = data[location.offset : location.offset + location.length]
        plaintext = repo.reader.open(location, location.kind, blob_id, record, rehash=True)
        sink.put(BlobKind(location.kind), plaintext)
    return len(blob_ids)


def _kept_packs(repo: Repository, keep: list[str]) -> list[IndexedPack]:
    wanted = set(keep)
    entries: dict[str, list[PackEntry]] = defaultdict(list)
    for blob_id, location in repo.index.items():
        if location.pack_id in wanted:
            entries[location.pack_id].append(PackEntry(
                blob_id, location.kind, location.offset, location.length, location.raw_length
            ))
    packs = []
    for pack_id in keep:
        salt = repo.index.salt_of(pack_id)
        assert salt is not None
        packs.append(IndexedPack(pack_id, salt, entries[pack_id]))
    return packs


def _packs_of(index: BlobIndex) -> list[IndexedPack]:
    entries: dict[str, list[PackEntry]] = defaultdict(list)
    for blob_id, location in index.items():
        entries[location.pack_id].append(PackEntry(
            blob_id, location.kind, location.offset, location.length, location.raw_length
        ))
    packs = []
    for pack_id, pack_entries in sorted(entries.items()):
        salt = index.salt_of(pack_id)
        assert salt is not None
        packs.append(IndexedPack(pack_id, salt, pack_entries))
    return packs


def _write_indexes(
    repo: Repository, packs: list[IndexedPack], supersedes: set[str], guard: Callable[[], None]
) -> None:
    groups = [packs[i : i + _PACKS_PER_INDEX] for i in range(0, len(packs), _PACKS_PER_INDEX)]
    if not groups:
        groups = [[]]
    for group in groups[:-1]:
        guard()
        write_index_file(repo.backend, repo.keys, group)
    guard()
    write_index_file(repo.backend, repo.keys, groups[-1], supersedes)


def _delete(backend: Backend, name: str, retained: list[str]) -> int:
    try:
        backend.delete(name)
    except NotFound:
        return 0
    except ObjectLocked:
        retained.append(name)
        return 0
    return 1
