"""The repository: open or create it, read snapshots and objects, start a writer.

Typical use::

    repo = Repository.open(backend, PassphraseKeyProvider(passphrase))
    with repo.writer(tenant="contoso") as writer:
        for user in users:
            writer.add("users", user["id"], user)
        snapshot = writer.commit()
    for object_id, document in repo.objects(snapshot, "users"):
        ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, Literal

from entra_backup.domain.canonical import NotCanonicalisable, parse_json
from entra_backup.store.backends.base import Backend, NotFound
from entra_backup.store.blob import BlobCodec, BlobKind
from entra_backup.store.config import (
    DEFAULT_PACK_SIZE,
    RepositoryConfig,
    decode_config,
)
from entra_backup.store.crypto import REPO_ID_SIZE, RepositoryKeys, random_bytes
from entra_backup.store.damage import DamageMarks, load_damage
from entra_backup.store.errors import (
    AmbiguousSnapshotId,
    CorruptBlob,
    CorruptFile,
    IntegrityError,
    ObjectNotFound,
    RepositoryExists,
    RepositoryNotFound,
    SnapshotNotFound,
)
from entra_backup.store.files import (
    CONFIG_NAME,
    INDEX_PREFIX,
    SNAPSHOT_MAGIC,
    SNAPSHOT_PREFIX,
    content_name,
    open_file,
)
from entra_backup.store.index import BlobIndex, LoadedIndex, load_index
from entra_backup.store.keys import master
from entra_backup.store.keys.base import KeyProvider
from entra_backup.store.lock import RepositoryLock
from entra_backup.store.manifest import ManifestReader
from entra_backup.store.reader import BlobReader
from entra_backup.store.seen import SeenSnapshots
from entra_backup.store.sink import DEFAULT_INDEX_EVERY
from entra_backup.store.snapshot import Snapshot, TypeEntry
from entra_backup.store.sorter import DEFAULT_BUFFER, EntrySorter
from entra_backup.store.writer import SnapshotWriter

_READ_BATCH = 1000
_STORAGE_KEY = 64 + 12


def _quiet(_message: str) -> None:
    """The default for warnings: a repository used as a library prints nothing."""


class Repository:
    """An opened (unlocked) repository."""

    def __init__(
        self, backend: Backend, config: RepositoryConfig, master_key: bytes, key_name: str,
        *, warn: Callable[[str], None] = _quiet,
    ) -> None:
        self.backend = backend
        self.warn = warn
        """Where files that do not authenticate are reported (they are never used)."""
        self._warned: set[str] = set()
        self.seen: SeenSnapshots | None = None
        """The home's record of this repository's snapshots; set, every full listing is
        compared with it (a deleted or rolled-back snapshot is refused)."""
        self.config = config
        self._master_key = master_key
        self.keys = RepositoryKeys.derive(master_key, config.repo_id)
        self.key_name = key_name
        self.index_every = DEFAULT_INDEX_EVERY
        self._snapshots: dict[str, Snapshot] = {}
        self.loaded_index: LoadedIndex = LoadedIndex()
        self.reader = BlobReader(
            backend, BlobCodec(self.keys, self.load_dictionary), self.loaded_index.index
        )
        self.manifests = ManifestReader(self._read_structure)
        self._index_names: set[str] = set()
        self.damage = DamageMarks()
        """Locations ``check --read-data`` marked damaged; left out of the index."""
        self.reload_index()

    @classmethod
    def init(
        cls, backend: Backend, key_provider: KeyProvider, *, pack_size: int = DEFAULT_PACK_SIZE,
        warn: Callable[[str], None] = _quiet,
    ) -> Repository:
        """Create a new repository with a fresh master key wrapped by ``key_provider``."""
        if backend.exists(CONFIG_NAME):
            raise RepositoryExists("a repository exists at this location already")
        repo_id = random_bytes(REPO_ID_SIZE)
        master_key = master.new_master_key()
        keys = RepositoryKeys.derive(master_key, repo_id)
        config = RepositoryConfig(
            repo_id, datetime.now(UTC).isoformat(timespec="seconds"), pack_size
        )
        key_name = master.add_key(backend, key_provider, master_key, repo_id)
        backend.create(CONFIG_NAME, config.encode(keys))
        return cls(backend, config, master_key, key_name, warn=warn)

    @classmethod
    def open(cls, backend: Backend, key_provider: KeyProvider, *,
             warn: Callable[[str], None] = _quiet) -> Repository:
        """Open an existing repository; raise WrongKey / WrongPassphrase if it does not open."""
        config, mac = cls.read_config(backend)
        foreign: list[str] = []

        def belongs(key: bytes) -> bool:
            try:
                config.verify(RepositoryKeys.derive(key, config.repo_id), mac)
            except CorruptFile:
                return False
            return True

        master_key, key_name = master.unlock(backend, key_provider, config.repo_id,
                                             belongs=belongs, foreign=foreign)
        for name in foreign:
            warn(f"key file {name} opens with this key but holds another master key (added "
                 "by someone else?); it is ignored")
        return cls(backend, config, master_key, key_name, warn=warn)

    @staticmethod
    def read_config(backend: Backend) -> tuple[RepositoryConfig, bytes]:
        """The config file and its MAC, not yet verified (no key needed)."""
        try:
            return decode_config(backend.read(CONFIG_NAME))
        except NotFound as exc:
            raise RepositoryNotFound("no repository here (the config file is missing)") from exc

    @property
    def id(self) -> str:
        """The repository id (hex)."""
        return self.config.repo_id.hex()

    @property
    def index(self) -> BlobIndex:
        """The live in-memory index."""
        return self.loaded_index.index

    def add_key(self, provider: KeyProvider) -> str:
        """Store another wrapped copy of the master key; return its name."""
        return self.store_key(provider)[0]

    def store_key(self, provider: KeyProvider) -> tuple[str, bytes]:
        """Store another wrapped copy of the master key; return its name and bytes."""
        return master.store_key(self.backend, provider, self._master_key,
                                self.config.repo_id)

    def load_dictionary(self, blob_id: bytes) -> bytes:
        """The bytes of a compression dictionary blob."""
        return self.reader.read(BlobKind.DICTIONARY, blob_id)

    def reload_index(self) -> None:
        """Read the index files again (after another process wrote)."""
        self.loaded_index = LoadedIndex()
        self.reader.index = self.loaded_index.index
        self._index_names = self._list_index_names()
        self.damage = load_damage(self.backend, self.keys)
        self.loaded_index = load_index(self.backend, self.keys, exclude=self.damage.blobs)
        self.reader.index = self.loaded_index.index
        self.reader.damaged = {blob: why for (_, blob), why in self.damage.blobs.items()}
        self.manifests = ManifestReader(self._read_structure)
        for name, reason in sorted(self.damage.unreadable.items()):
            self._warn_once(name, f"{reason}; this damage marker is ignored")
        for name, reason in sorted(self.loaded_index.damaged.items()):
            self._warn_once(name, f"{reason}; this index file is not used ('entra-backup "
                                  "check' lists it, 'repair index' rebuilds the index)")

    def _warn_once(self, name: str, message: str) -> None:
        """Report a file that does not authenticate, once per process."""
        if name not in self._warned:
            self._warned.add(name)
            self.warn(message)

    def refresh_index(self) -> None:
        """Reload the index only if index files appeared or went that this process did not
        write: rebuilding it costs seconds at a few hundred thousand objects."""
        if self._list_index_names() != self._index_names:
            self.reload_index()

    def note_index_files(self, names: list[str]) -> None:
        """Index files this process wrote; their entries are in the live index already."""
        self._index_names.update(name for name in names if name.startswith(INDEX_PREFIX))

    def _list_index_names(self) -> set[str]:
        return {info.name for info in self.backend.list(INDEX_PREFIX)}

    def writer(
        self,
        tenant: str,
        *,
        parent: Snapshot | str | None = "latest",
        lock: RepositoryLock | None = None,
        sort_buffer: int = DEFAULT_BUFFER,
        clock: Callable[[], datetime] | None = None,
    ) -> SnapshotWriter:
        """Start a snapshot of ``tenant``, holding the repository lock until commit.

        ``parent`` (a snapshot, an id, ``"latest"`` of the tenant, or None) is the snapshot
        whose manifests new manifests are written as deltas against. Pass ``lock`` to use a
        lock the caller holds already; otherwise the writer takes and releases one.
        ``clock`` gives the snapshot's time (default: now, UTC).
        """
        owns_lock = lock is None
        if lock is None:
            lock = RepositoryLock(self.backend)
            lock.acquire()
            lock.start_refreshing()
        try:
            self.refresh_index()
            base = self._resolve_parent(tenant, parent)
        except BaseException:
            if owns_lock:
                lock.release()
            raise
        return SnapshotWriter(
            self, tenant, parent=base, lock=lock, owns_lock=owns_lock, sort_buffer=sort_buffer,
            clock=clock or (lambda: datetime.now(UTC)),
        )

    def snapshot_ids(self) -> list[str]:
        """The ids of every snapshot file, sorted."""
        return sorted(info.name.removeprefix(SNAPSHOT_PREFIX)
                      for info in self.backend.list(SNAPSHOT_PREFIX))

    def snapshots(self, tenant: str | None = None) -> list[Snapshot]:
        """Readable snapshots (of one tenant if given), oldest first.

        A snapshot file that does not open is never used: it is reported through ``warn``,
        and refused (MissingSnapshots) if the home's record says it was good before, as is a
        remembered snapshot that is gone."""
        found, unreadable = self._list_all()
        if self.seen is not None:
            self.seen.listed(found, unreadable)
        for snapshot_id, reason in sorted(unreadable.items()):
            # Named, so a damaged newest snapshot never silently turns 'latest' into an
            # older one.
            self._warn_once(snapshot_id, f"snapshot file {SNAPSHOT_PREFIX}{snapshot_id} "
                                         f"cannot be read ({reason}); it is left out of "
                                         "snapshot lists and 'latest' (which may therefore "
                                         "not be the newest file); 'entra-backup check' "
                                         "has details")
        found = [item for item in found if tenant is None or item.tenant == tenant]
        return sorted(found, key=lambda item: (item.time, item.id))

    def snapshot_files(self) -> tuple[set[str], dict[str, str]]:
        """The ids of the snapshot files that open, and why the others do not (``check``)."""
        found, unreadable = self._list_all()
        return {item.id for item in found}, unreadable

    def _list_all(self) -> tuple[list[Snapshot], dict[str, str]]:
        found: list[Snapshot] = []
        unreadable: dict[str, str] = {}
        for snapshot_id in self.snapshot_ids():
            try:
                found.append(self._load(snapshot_id))
            except SnapshotNotFound:
                continue  # deleted between listing and reading: absent, like before
            except IntegrityError as exc:
                unreadable[snapshot_id] = exc.message
        return found, unreadable

    def load_snapshot(self, reference: str, tenant: str | None = None) -> Snapshot:
        """A snapshot by id, unique id prefix or ``latest`` (of ``tenant`` if given)."""
        if reference == "latest":
            snapshots = self.snapshots(tenant)
            if not snapshots:
                raise SnapshotNotFound(f"no snapshot{'' if tenant is None else ' of ' + tenant}")
            return snapshots[-1]
        if not reference or any(char not in "0123456789abcdef" for char in reference):
            raise SnapshotNotFound(f"{reference!r} is not a snapshot id or prefix")
        matches = [item for item in self.snapshot_ids() if item.startswith(reference)]
        if tenant is not None and len(matches) > 1:
            # A prefix only needs to be unique among the tenant's own snapshots.
            matches = [item for item in matches if self._tenant_of(item) in (tenant, None)]
        if not matches:
            raise SnapshotNotFound(f"no snapshot matches {reference!r}")
        if len(matches) > 1:
            raise AmbiguousSnapshotId(
                f"{reference!r} matches {len(matches)} snapshots; give more characters"
            )
        snapshot = self._load(matches[0])
        if tenant is not None and snapshot.tenant != tenant:
            raise SnapshotNotFound(f"snapshot {reference} belongs to another tenant")
        return snapshot

    def _tenant_of(self, snapshot_id: str) -> str | None:
        """The snapshot's tenant, or None when it cannot be read (kept as a candidate)."""
        try:
            return self._load(snapshot_id).tenant
        except (IntegrityError, SnapshotNotFound):
            return None

    def remember_snapshot(self, snapshot: Snapshot) -> None:
        """Cache (and record in the home) a snapshot this process has just written."""
        self._snapshots[snapshot.id] = snapshot
        if self.seen is not None:
            self.seen.written(snapshot)

    def forget_cached(self, snapshot_id: str) -> None:
        """Drop a snapshot from the cache (after it was deleted on purpose: the home's
        record then stops expecting it)."""
        self._snapshots.pop(snapshot_id, None)
        if self.seen is not None:
            self.seen.removed(snapshot_id)

    def object_ids(self, snapshot: Snapshot, type_name: str) -> Iterator[str]:
        """The ids of a type's objects in id order."""
        for object_id, _ in self.manifests.entries(self._manifest_of(snapshot, type_name)):
            yield object_id

    def objects(
        self, snapshot: Snapshot, type_name: str, *, order: Literal["id", "storage"] = "id"
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """A type's objects, streamed in bounded memory.

        ``order="id"`` yields them sorted by object id. ``order="storage"`` yields them in
        the order they sit in packs, which reads each pack sequentially: much faster for
        large types whose ids are unrelated to the order they were backed up in.
        """
        entries = self.manifests.entries(self._manifest_of(snapshot, type_name))
        if order == "storage":
            entries = self._in_storage_order(type_name, entries)
        batch: list[tuple[str, bytes]] = []
        for entry in entries:
            batch.append(entry)
            if len(batch) == _READ_BATCH:
                yield from self._documents(batch)
                batch = []
        yield from self._documents(batch)

    def _in_storage_order(
        self, type_name: str, entries: Iterator[tuple[str, bytes]]
    ) -> Iterator[tuple[str, bytes]]:
        sorter = EntrySorter(type_name)
        try:
            for object_id, blob_id in entries:
                location = self.reader.locate(BlobKind.DOCUMENT, blob_id)
                sorter.add(f"{location.pack_id}{location.offset:012d}{object_id}", blob_id)
            for key, blob_id in sorter.sorted_entries():
                yield key[_STORAGE_KEY:], blob_id
        finally:
            sorter.close()

    def get(self, snapshot: Snapshot, type_name: str, object_id: str) -> dict[str, Any]:
        """One object's document; raise ObjectNotFound or an IntegrityError."""
        blob_id = self.manifests.lookup(self._manifest_of(snapshot, type_name), object_id)
        if blob_id is None:
            raise ObjectNotFound(
                f"snapshot {snapshot.short_id} has no {type_name} object {object_id!r}"
            )
        return _as_document(self.reader.read(BlobKind.DOCUMENT, blob_id), blob_id)

    def _documents(self, batch: list[tuple[str, bytes]]) -> Iterator[tuple[str, dict[str, Any]]]:
        if not batch:
            return
        plaintexts = self.reader.read_many(BlobKind.DOCUMENT, [blob for _, blob in batch])
        for (object_id, blob_id), plaintext in zip(batch, plaintexts, strict=True):
            yield object_id, _as_document(plaintext, blob_id)

    def _manifest_of(self, snapshot: Snapshot, type_name: str) -> bytes:
        entry: TypeEntry | None = snapshot.types.get(type_name)
        if entry is None or entry.manifest is None:
            raise ObjectNotFound(f"snapshot {snapshot.short_id} holds no {type_name!r} objects")
        return entry.manifest

    def _read_structure(self, kind: BlobKind, blob_id: bytes) -> bytes:
        return self.reader.read(kind, blob_id)

    def _load(self, snapshot_id: str) -> Snapshot:
        cached = self._snapshots.get(snapshot_id)
        if cached is not None:
            return cached
        name = SNAPSHOT_PREFIX + snapshot_id
        try:
            data = self.backend.read(name)
        except NotFound as exc:
            raise SnapshotNotFound(f"snapshot {snapshot_id} does not exist") from exc
        if content_name(data) != snapshot_id:
            raise IntegrityError(f"snapshot {snapshot_id} does not match its content hash")
        snapshot = Snapshot.decode(open_file(self.keys, SNAPSHOT_MAGIC, data, name), snapshot_id)
        self._snapshots[snapshot_id] = snapshot
        return snapshot

    def _resolve_parent(self, tenant: str, parent: Snapshot | str | None) -> Snapshot | None:
        if parent is None or isinstance(parent, Snapshot):
            return parent
        if parent == "latest":
            snapshots = self.snapshots(tenant)
            return snapshots[-1] if snapshots else None
        return self.load_snapshot(parent, tenant)


def _as_document(plaintext: bytes, blob_id: bytes) -> dict[str, Any]:
    try:
        document = parse_json(plaintext)
    except NotCanonicalisable as exc:
        raise CorruptBlob(f"document blob {blob_id.hex()} is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise CorruptBlob(f"document blob {blob_id.hex()} is not a JSON object")
    return document

