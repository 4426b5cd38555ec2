"""The index: which pack holds each blob, in memory and in ``index/`` files.

An index file is a sealed file (see :mod:`.files`) whose body is JSON::

    {"version": 1, "supersedes": [index file names],
     "packs": [{"id": pack id, "salt": hex, "blobs": [[blob id, kind, offset, length,
                                                      raw length], ...]}]}

``supersedes`` is how prune replaces index files safely: it writes the new file first,
listing the files it replaces, and deletes them afterwards. A file that a live index file
supersedes is ignored when loading (a prune was interrupted, or an old index was replayed
by someone with write access) and reported by ``check``.

In memory each blob costs a 49-byte record in a :class:`~.blobtable.BlobTable`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

import orjson

from entra_backup.store.backends.base import Backend, NotFound
from entra_backup.store.blobtable import BlobTable, Record
from entra_backup.store.crypto import RepositoryKeys
from entra_backup.store.errors import CorruptFile, IntegrityError, UnsupportedFormat
from entra_backup.store.files import INDEX_MAGIC, INDEX_PREFIX, content_name, open_file, seal_file
from entra_backup.store.pack import PackEntry

_VERSION = 1


class Location(NamedTuple):
    """Where a blob is stored."""

    pack_id: str
    salt: bytes
    kind: int
    offset: int
    length: int
    raw_length: int


@dataclass(frozen=True, slots=True)
class IndexedPack:
    """One pack's entries, as written to an index file."""

    pack_id: str
    salt: bytes
    entries: list[PackEntry]


class BlobIndex:
    """Blob id to location, for every pack in the loaded index files."""

    def __init__(self) -> None:
        self._packs: list[tuple[str, bytes]] = []
        self._pack_numbers: dict[str, int] = {}
        self._table = BlobTable()

    def __len__(self) -> int:
        return len(self._table)

    def __contains__(self, blob_id: object) -> bool:
        return blob_id in self._table

    def add_pack(self, pack: IndexedPack, *, all_new: bool = False) -> None:
        """Record a pack's blobs; a blob already indexed keeps its first location.

        ``all_new`` skips the look-up for writers that checked each blob before packing it.
        """
        number = self._pack_numbers.get(pack.pack_id)
        if number is None:
            number = len(self._packs)
            self._packs.append((pack.pack_id, pack.salt))
            self._pack_numbers[pack.pack_id] = number
        table = self._table
        for entry in pack.entries:
            if all_new or entry.blob_id not in table:
                table.add(
                    entry.blob_id,
                    (number, entry.kind, entry.offset, entry.length, entry.raw_length),
                )

    def get(self, blob_id: bytes) -> Location | None:
        """The blob's location, or None if no index lists it."""
        record = self._table.get(blob_id)
        return None if record is None else self._location(record)

    def pack_ids(self) -> set[str]:
        """Every pack some index entry points into."""
        return {pack_id for pack_id, _ in self._packs}

    def items(self) -> Iterator[tuple[bytes, Location]]:
        """Every blob id with its location."""
        for blob_id, record in self._table.items():
            yield blob_id, self._location(record)

    def salt_of(self, pack_id: str) -> bytes | None:
        """The salt recorded for a pack."""
        number = self._pack_numbers.get(pack_id)
        return None if number is None else self._packs[number][1]

    def _location(self, record: Record) -> Location:
        number, kind, offset, length, raw_length = record
        pack_id, salt = self._packs[number]
        return Location(pack_id, salt, kind, offset, length, raw_length)


def encode_index(packs: Iterable[IndexedPack], supersedes: Iterable[str] = ()) -> bytes:
    """The JSON body of an index file."""
    body = {
        "version": _VERSION,
        "supersedes": sorted(supersedes),
        "packs": [
            {
                "id": pack.pack_id,
                "salt": pack.salt.hex(),
                "blobs": [
                    [e.blob_id.hex(), e.kind, e.offset, e.length, e.raw_length]
                    for e in pack.entries
                ],
            }
            for pack in packs
        ],
    }
    return orjson.dumps(body)


def decode_index(body: bytes, name: str) -> tuple[list[IndexedPack], list[str]]:
    """Parse an index body into its packs and the names it supersedes."""
    try:
        document = orjson.loads(body)
        if document["version"] != _VERSION:
            raise UnsupportedFormat(f"index {name} has version {document['version']}")
        raw_packs = document.pop("packs")
        packs = []
        while raw_packs:
            pack = raw_packs.pop()
            entries = [PackEntry(bytes.fromhex(b[0]), *b[1:5]) for b in pack["blobs"]]
            packs.append(IndexedPack(str(pack["id"]), bytes.fromhex(pack["salt"]), entries))
        packs.reverse()
        return packs, [str(item) for item in document["supersedes"]]
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, IndexError) as exc:
        raise CorruptFile(f"index {name} is malformed: {exc}") from exc


def write_index_file(
    backend: Backend, keys: RepositoryKeys, packs: list[IndexedPack], supersedes: Iterable[str] = ()
) -> str:
    """Seal and store an index file; return its backend name."""
    data = seal_file(keys, INDEX_MAGIC, encode_index(packs, supersedes))
    name = INDEX_PREFIX + content_name(data)
    backend.create(name, data)
    return name


@dataclass
class LoadedIndex:
    """The merged live index plus what loading found wrong."""

    index: BlobIndex = field(default_factory=BlobIndex)
    live: list[str] = field(default_factory=list)
    superseded: dict[str, str] = field(default_factory=dict)
    damaged: dict[str, str] = field(default_factory=dict)
    retired: set[str] = field(default_factory=set)
    """Every name any parsed index file supersedes (prune carries the set forward)."""


def load_index(
    backend: Backend, keys: RepositoryKeys, exclude: Collection[tuple[str, bytes]] = ()
) -> LoadedIndex:
    """Read every index file; skip and report damaged and superseded ones.

    ``exclude`` names (pack id, blob id) locations to leave out: blobs known to be damaged.

    Files are added as they are read, so only one file's entries are decoded at a time.
    Only if a file read later supersedes one already added (an interrupted prune, or a
    replay) is the index built again from the live files.
    """
    loaded = LoadedIndex()
    names = sorted(info.name for info in backend.list(INDEX_PREFIX))
    added: list[str] = []
    for name in names:
        parsed = _read_index_file(backend, keys, name, loaded, exclude)
        if parsed is None:
            continue
        packs, olds = parsed
        for old in olds:
            loaded.superseded.setdefault(old, name)
        if name not in loaded.superseded:
            added.append(name)
            for pack in packs:
                loaded.index.add_pack(pack)
    loaded.retired = set(loaded.superseded)
    loaded.live = [name for name in added if name not in loaded.retired]
    if len(loaded.live) < len(added):
        loaded.index = BlobIndex()
        for name in loaded.live:
            parsed = _read_index_file(backend, keys, name, loaded, exclude)
            for pack in parsed[0] if parsed is not None else []:
                loaded.index.add_pack(pack)
    present = set(names)
    loaded.superseded = {old: new for old, new in loaded.superseded.items() if old in present}
    return loaded


def _read_index_file(
    backend: Backend, keys: RepositoryKeys, name: str, loaded: LoadedIndex,
    exclude: Collection[tuple[str, bytes]] = (),
) -> tuple[list[IndexedPack], list[str]] | None:
    try:
        data = backend.read(name)
        if content_name(data) != name.removeprefix(INDEX_PREFIX):
            raise CorruptFile(f"index {name} does not match its content hash")
        packs, olds = decode_index(open_file(keys, INDEX_MAGIC, data, name), name)
        if exclude:
            packs = [_without(pack, exclude) for pack in packs]
        return packs, olds
    except NotFound:
        return None
    except IntegrityError as exc:
        loaded.damaged[name] = exc.message
        return None


def _without(pack: IndexedPack, exclude: Collection[tuple[str, bytes]]) -> IndexedPack:
    entries = [e for e in pack.entries if (pack.pack_id, e.blob_id) not in exclude]
    return pack if len(entries) == len(pack.entries) else IndexedPack(
        pack.pack_id, pack.salt, entries
    )
