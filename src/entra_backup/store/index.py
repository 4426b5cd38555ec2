"""The index: which pack holds each blob, in memory and in ``index/`` files.

An index file is a sealed file (see :mod:`.files`) whose body is JSON::

    {"version": 1, "supersedes": [index file names],
     "packs": [{"id": pack id, "salt": hex, "blobs": [[blob id, kind, offset, length,
                                                      raw length], ...]}]}

``supersedes`` is how prune replaces index files safely: it writes the new file first,
listing the files it replaces, and deletes them afterwards. A file that a live index file
supersedes is ignored when loading (a prune was interrupted, or an old index was replayed
by someone with write access) and reported by ``check``.

In memory each blob costs one dictionary entry: its 32-byte id and one integer packing
pack number, kind, offset, length and raw length.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import orjson

from entra_backup.store.backends.base import Backend, NotFound
from entra_backup.store.crypto import RepositoryKeys
from entra_backup.store.errors import CorruptFile, IntegrityError, UnsupportedFormat
from entra_backup.store.files import INDEX_MAGIC, INDEX_PREFIX, content_name, open_file, seal_file
from entra_backup.store.pack import PackEntry

_VERSION = 1
_BITS = 32
_MASK = (1 << _BITS) - 1


@dataclass(frozen=True, slots=True)
class Location:
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
        self._blobs: dict[bytes, int] = {}

    def __len__(self) -> int:
        return len(self._blobs)

    def __contains__(self, blob_id: object) -> bool:
        return blob_id in self._blobs

    def add_pack(self, pack: IndexedPack) -> None:
        """Record a pack's blobs; a blob already indexed keeps its first location."""
        number = self._pack_numbers.get(pack.pack_id)
        if number is None:
            number = len(self._packs)
            self._packs.append((pack.pack_id, pack.salt))
            self._pack_numbers[pack.pack_id] = number
        blobs = self._blobs
        for entry in pack.entries:
            if entry.blob_id not in blobs:
                blobs[entry.blob_id] = _pack_value(number, entry)

    def get(self, blob_id: bytes) -> Location | None:
        """The blob's location, or None if no index lists it."""
        value = self._blobs.get(blob_id)
        if value is None:
            return None
        raw_length = value & _MASK
        length = (value >> _BITS) & _MASK
        offset = (value >> 2 * _BITS) & _MASK
        kind = (value >> 3 * _BITS) & 0xFF
        pack_id, salt = self._packs[value >> (3 * _BITS + 8)]
        return Location(pack_id, salt, kind, offset, length, raw_length)

    def pack_ids(self) -> set[str]:
        """Every pack some index entry points into."""
        return {pack_id for pack_id, _ in self._packs}

    def items(self) -> Iterator[tuple[bytes, Location]]:
        """Every blob id with its location."""
        for blob_id in self._blobs:
            location = self.get(blob_id)
            assert location is not None
            yield blob_id, location

    def salt_of(self, pack_id: str) -> bytes | None:
        """The salt recorded for a pack."""
        number = self._pack_numbers.get(pack_id)
        return None if number is None else self._packs[number][1]


def _pack_value(number: int, entry: PackEntry) -> int:
    value = number << 8 | entry.kind
    value = value << _BITS | entry.offset
    value = value << _BITS | entry.length
    return value << _BITS | entry.raw_length


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
        packs = [
            IndexedPack(
                str(pack["id"]),
                bytes.fromhex(pack["salt"]),
                [PackEntry(bytes.fromhex(b[0]), b[1], b[2], b[3], b[4]) for b in pack["blobs"]],
            )
            for pack in document["packs"]
        ]
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


def load_index(backend: Backend, keys: RepositoryKeys) -> LoadedIndex:
    """Read every index file; skip and report damaged and superseded ones."""
    loaded = LoadedIndex()
    parsed: dict[str, tuple[list[IndexedPack], list[str]]] = {}
    for info in sorted(backend.list(INDEX_PREFIX), key=lambda item: item.name):
        try:
            data = backend.read(info.name)
            if content_name(data) != info.name.removeprefix(INDEX_PREFIX):
                raise CorruptFile(f"index {info.name} does not match its content hash")
            body = open_file(keys, INDEX_MAGIC, data, info.name)
            parsed[info.name] = decode_index(body, info.name)
        except NotFound:
            continue
        except IntegrityError as exc:
            loaded.damaged[info.name] = exc.message
    superseded_by = {old: name for name, (_, olds) in parsed.items() for old in olds}
    loaded.retired = set(superseded_by)
    for name, (packs, _) in parsed.items():
        if name in superseded_by:
            loaded.superseded[name] = superseded_by[name]
            continue
        loaded.live.append(name)
        for pack in packs:
            loaded.index.add_pack(pack)
    return loaded
