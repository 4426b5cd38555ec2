"""Walking what a snapshot references: manifest structure blobs, then document blobs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from entra_backup.store.blob import BlobKind
from entra_backup.store.manifest import ManifestReader
from entra_backup.store.snapshot import Snapshot


@dataclass(frozen=True, slots=True)
class Reference:
    """One blob a snapshot needs; ``object_id`` is set for document blobs."""

    type_name: str
    kind: BlobKind
    blob_id: bytes
    object_id: str | None = None


def structure_references(manifests: ManifestReader, snapshot: Snapshot) -> Iterator[Reference]:
    """The manifest and chunk blobs of every type (decoding the manifests on the way)."""
    for type_name in sorted(snapshot.types):
        yield from type_structure_references(manifests, snapshot, type_name)


def type_structure_references(
    manifests: ManifestReader, snapshot: Snapshot, type_name: str
) -> Iterator[Reference]:
    """The manifest and chunk blobs of one type."""
    manifest = snapshot.types[type_name].manifest
    if manifest is None:
        return
    for kind, blob_id in manifests.structure(manifest):
        yield Reference(type_name, kind, blob_id)


def document_references(
    manifests: ManifestReader, snapshot: Snapshot, type_name: str
) -> Iterator[Reference]:
    """The document blobs of one type, in object id order."""
    entry = snapshot.types[type_name]
    if entry.manifest is None:
        return
    for object_id, blob_id in manifests.entries(entry.manifest):
        yield Reference(type_name, BlobKind.DOCUMENT, blob_id, object_id)


def all_references(manifests: ManifestReader, snapshot: Snapshot) -> Iterator[Reference]:
    """Structure then documents of every type."""
    yield from structure_references(manifests, snapshot)
    for type_name in sorted(snapshot.types):
        yield from document_references(manifests, snapshot, type_name)
