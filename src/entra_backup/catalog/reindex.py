"""Rebuild the catalog from the repository alone.

The catalog reads snapshots through :class:`SnapshotSource`, a small protocol, so it does
not depend on the storage layer (the layer contract keeps ``store`` and ``catalog``
independent). The services layer adapts the repository to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

from entra_backup.catalog.records import ObjectVersion, SnapshotInfo

if TYPE_CHECKING:
    from entra_backup.catalog.store import Catalog


class SnapshotSource(Protocol):
    """Where snapshots come from: the repository, through an adapter."""

    def snapshots(self) -> list[SnapshotInfo]:
        """Every readable snapshot, any order."""

    def versions(self, snapshot: SnapshotInfo) -> Iterator[ObjectVersion]:
        """Stream a snapshot's objects, every type it holds."""


def reindex(catalog: Catalog, source: SnapshotSource) -> int:
    """Replace the catalog by one holding every snapshot of ``source``, in time order.

    The new catalog is built beside the old one (``Catalog.rebuild``), so a failure leaves
    the old one in place. Running it again gives the same catalog. Returns the number of
    snapshots recorded.
    """
    ordered = sorted(source.snapshots(), key=lambda info: (info.tenant, info.time, info.id))

    def fill(fresh: Catalog) -> int:
        for info in ordered:
            fresh.record(info, source.versions(info))
        return len(ordered)

    return catalog.rebuild(fill)
