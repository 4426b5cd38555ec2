"""Keeping the catalog in step with the repository: recording new snapshots, and reindex.

The repository is the source of truth; the catalog is rebuilt from it by
:class:`RepositorySource` (the catalog's ``SnapshotSource``), and a backup records its
snapshot right after committing it, with only the changes when the catalog is up to date.
"""

from __future__ import annotations

from collections.abc import Iterator

from entra_backup.catalog import (
    Catalog,
    CatalogDamaged,
    CatalogError,
    CatalogOutOfDate,
    ObjectVersion,
    SnapshotInfo,
    reindex,
)
from entra_backup.catalog.fields import VersionHasher, keyed_version_hasher
from entra_backup.domain.object_types import names
from entra_backup.store.errors import CorruptBlob, IntegrityError, SnapshotNotFound
from entra_backup.store.repository import Repository
from entra_backup.store.snapshot import Snapshot

_KNOWN = frozenset(names())


def snapshot_info(snapshot: Snapshot,
                  changes_only: dict[str, tuple[str, ...]] | None = None) -> SnapshotInfo:
    """The catalog's view of a snapshot (internal types left out)."""
    return SnapshotInfo(
        id=snapshot.id, tenant=snapshot.tenant, time=snapshot.time,
        type_status={name: entry.status.value for name, entry in snapshot.types.items()
                     if name in _KNOWN},
        parent=snapshot.parent, changes_only=changes_only or {},
    )


def catalog_hasher(repo: Repository) -> VersionHasher:
    """The version hash the catalog stores for this repository's documents: keyed with a
    key derived from the master key (docs/catalog.md), the same for a backup's recording
    and for every rebuild."""
    return keyed_version_hasher(repo.keys.catalog_hash_key)


class RepositorySource:
    """The repository as the catalog's ``SnapshotSource``: every snapshot, every object.

    An object whose stored bytes are damaged is left out and named in :attr:`damaged`
    (``snapshot/type/object id``); its type then counts as not completely read, so the
    catalog does not take the missing object for a deleted one.
    """

    def __init__(self, repo: Repository, tenant: str | None = None) -> None:
        self.repo = repo
        self.tenant = tenant
        self.damaged: list[str] = []
        self._by_id: dict[str, Snapshot] = {}
        self._hash = catalog_hasher(repo)

    def snapshots(self) -> list[SnapshotInfo]:
        """Every readable snapshot (of the tenant, if one was given)."""
        found = self.repo.snapshots(self.tenant)
        self._by_id = {snapshot.id: snapshot for snapshot in found}
        return [snapshot_info(snapshot) for snapshot in found]

    def versions(self, info: SnapshotInfo) -> Iterator[ObjectVersion]:
        """Stream a snapshot's objects, every type it holds."""
        snapshot = self._by_id.get(info.id) or self.repo.load_snapshot(info.id)
        for type_name, entry in sorted(snapshot.types.items()):
            if type_name not in _KNOWN or entry.manifest is None:
                continue
            yield from self._type_versions(snapshot, info, type_name)

    def _type_versions(self, snapshot: Snapshot, info: SnapshotInfo,
                       type_name: str) -> Iterator[ObjectVersion]:
        """A type's objects in storage order; after damage, the rest one by one."""
        done: set[str] = set()
        try:
            for object_id, document in self.repo.objects(snapshot, type_name, order="storage"):
                done.add(object_id)
                yield ObjectVersion(type_name, object_id, self._hash(document), document)
            return
        except CorruptBlob:
            # A batch holds a blob whose bytes are damaged: read the rest alone to find
            # which. A missing blob or pack is not caught: that needs 'repair index' (or
            # the lost file) for the whole repository, and skipping would empty the catalog.
            pass
        try:
            object_ids = list(self.repo.object_ids(snapshot, type_name))
        except CorruptBlob:
            self._note_damage(info, type_name, "(its list of objects)")
            return
        for object_id in object_ids:
            if object_id in done:
                continue
            try:
                document = self.repo.get(snapshot, type_name, object_id)
            except CorruptBlob:
                self._note_damage(info, type_name, object_id)
                continue
            yield ObjectVersion(type_name, object_id, self._hash(document), document)

    def _note_damage(self, info: SnapshotInfo, type_name: str, what: str) -> None:
        self.damaged.append(f"{info.id[:8]}/{type_name}/{what}")
        # The catalog reads which types are complete only after it has staged every
        # version, so marking the type here keeps the unread object from being recorded
        # as deleted (snapshot_info builds type_status as a plain dict).
        status = info.type_status
        if isinstance(status, dict):
            status[type_name] = "damaged"


def record(catalog: Catalog, repo: Repository, snapshot: Snapshot,
           versions: Iterator[ObjectVersion], changes_only: dict[str, tuple[str, ...]]) -> str:
    """Record a committed snapshot; return how (``changes``, ``full`` or ``reindexed``).

    Changes alone are only valid when the catalog holds the snapshot's parent; when it
    missed earlier snapshots (it was deleted, or a backup stopped between its commit and
    this step), the catalog is rebuilt from the repository instead.
    """
    try:
        catalog.record(snapshot_info(snapshot, changes_only), versions)
    except CatalogOutOfDate:
        reindex(catalog, RepositorySource(repo))
        return "reindexed"
    return "changes" if changes_only else "full"


def catch_up(catalog: Catalog, repo: Repository) -> str | None:
    """Bring the catalog level with the repository before it answers; a note, or None.

    Compares ids only (a listing on each side), so it costs nothing when they agree. New
    snapshots (a run killed between its commit and its recording) are recorded in time
    order; a gap in the middle, or recorded snapshots the repository no longer holds,
    means a rebuild. Snapshots that cannot be read are left to the listing's warning.
    """
    recorded = set(catalog.snapshot_ids())
    listed = repo.snapshot_ids()
    stale = recorded - set(listed)
    missing = _readable(repo, [item for item in listed if item not in recorded])
    if not missing and not stale:
        return None
    source = RepositorySource(repo)
    if not stale:
        try:
            for snapshot in missing:
                info = snapshot_info(snapshot)
                catalog.record(info, source.versions(info))
        except CatalogDamaged:
            raise
        except CatalogError:
            pass  # older than what is recorded: only a rebuild keeps the order
        else:
            return _caught_up(bool(recorded), len(missing)) + damage_note(source.damaged)
    source = RepositorySource(repo)
    reindex(catalog, source)
    return ("the catalog did not match the repository; rebuilt it from the repository"
            + damage_note(source.damaged))


def _caught_up(had_any: bool, recorded: int) -> str:
    if had_any:
        return f"the catalog was behind the repository; recorded {_count(recorded)} it lacked"
    # A catalog emptied by an upgrade (revision 0004: keyed version hashes), a deleted
    # catalog file, or a new home on an existing repository.
    return (f"the catalog held none of the repository's {_count(recorded)}; "
            "recorded them from the repository")


def damage_note(damaged: list[str]) -> str:
    """The end of a message naming damaged objects left out of the catalog, or nothing."""
    if not damaged:
        return ""
    shown = ", ".join(damaged[:5]) + (", ..." if len(damaged) > 5 else "")
    return (f" ({len(damaged)} damaged object(s) left out: {shown}; "
            "'entra-backup check --read-data' has details)")


def _readable(repo: Repository, ids: list[str]) -> list[Snapshot]:
    found = []
    for snapshot_id in ids:
        try:
            found.append(repo.load_snapshot(snapshot_id))
        except (IntegrityError, SnapshotNotFound):
            continue
    return sorted(found, key=lambda item: (item.time, item.id))


def _count(number: int) -> str:
    return f"{number} snapshot" + ("" if number == 1 else "s")
