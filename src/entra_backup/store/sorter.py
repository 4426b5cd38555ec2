"""An external sort of ``(object id, blob id)`` pairs, so manifests stream in bounded memory.

Pairs are buffered up to a limit, then each full buffer is sorted and spilled to a
temporary file as a run; reading merges the runs. The merged stream can be read several
times (manifest building reads it twice) until :meth:`EntrySorter.close`.
"""

from __future__ import annotations

import heapq
import tempfile
from collections.abc import Iterator
from typing import IO

from entra_backup.store.crypto import ID_SIZE
from entra_backup.store.errors import WriterError

Entry = tuple[str, bytes]
DEFAULT_BUFFER = 50_000


class EntrySorter:
    """Collects pairs in any order and yields them sorted by object id."""

    def __init__(self, type_name: str, buffer_entries: int = DEFAULT_BUFFER) -> None:
        self._type = type_name
        self._limit = max(1, buffer_entries)
        self._buffer: list[Entry] = []
        self._runs: list[IO[bytes]] = []
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def add(self, object_id: str, blob_id: bytes) -> None:
        """Add one pair; spill a sorted run when the buffer is full."""
        self._buffer.append((object_id, blob_id))
        self._count += 1
        if len(self._buffer) >= self._limit:
            self._spill()

    def sorted_entries(self) -> Iterator[Entry]:
        """Every pair sorted by object id; raise WriterError on a repeated object id."""
        self._buffer.sort()
        streams = [_read_run(run) for run in self._runs]
        previous: str | None = None
        for entry in heapq.merge(iter(self._buffer), *streams):
            if entry[0] == previous:
                raise WriterError(f"object {previous!r} was added twice to type {self._type!r}")
            previous = entry[0]
            yield entry

    def close(self) -> None:
        """Drop the buffer and delete the spilled runs."""
        for run in self._runs:
            run.close()
        self._runs.clear()
        self._buffer.clear()

    def _spill(self) -> None:
        self._buffer.sort()
        run = tempfile.TemporaryFile(prefix="entra-backup-sort-")  # noqa: SIM115 - closed in close()
        for object_id, blob_id in self._buffer:
            encoded = object_id.encode("utf-8")
            run.write(len(encoded).to_bytes(4, "little") + encoded + blob_id)
        self._runs.append(run)
        self._buffer = []


def _read_run(run: IO[bytes]) -> Iterator[Entry]:
    run.seek(0)
    while header := run.read(4):
        length = int.from_bytes(header, "little")
        record = run.read(length + ID_SIZE)
        yield record[:length].decode("utf-8"), record[length:]
