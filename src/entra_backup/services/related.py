"""What a snapshot says about an object beyond its own document: the groups, AUs and
directory roles it is a member of, its role assignments, its licences by name, and the
display names of the objects its relationships point at.

Memberships are the reverse of the ``members`` edges stored on groups, AUs and roles, so
they are found by streaming those types' documents (bounded memory, one pass each).
Display names come from the catalog by id, a chunk at a time, never from reading the tenant.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from entra_backup.catalog import CatalogError
from entra_backup.store.errors import ObjectNotFound
from entra_backup.store.repository import Repository
from entra_backup.store.snapshot import Snapshot

if TYPE_CHECKING:
    from entra_backup.catalog import Catalog

Document = dict[str, Any]
MEMBERSHIP_TYPES = ("groups", "administrativeUnits", "directoryRoles")
"""Types whose ``members`` edges make an object a member of them."""


def edges(value: Any) -> list[Document]:
    """A relationship's edges as a list (a single-valued one such as ``manager`` too)."""
    if isinstance(value, list):
        return [edge for edge in value if isinstance(edge, dict)]
    return [value] if isinstance(value, dict) else []


def stream(repo: Repository, snapshot: Snapshot, type_name: str) -> Iterator[tuple[str, Document]]:
    """The type's objects in the snapshot, in storage order (a scan needs no order and
    reads each pack once this way); nothing when the snapshot did not read the type."""
    entry = snapshot.types.get(type_name)
    if entry is None or entry.manifest is None:
        return iter(())
    return repo.objects(snapshot, type_name, order="storage")


def memberships(repo: Repository, snapshot: Snapshot, object_id: str) -> dict[str, Any]:
    """Groups, AUs and directory roles holding the object as a member, and its role
    assignments, each with the other object's display name."""
    found: dict[str, Any] = {}
    for type_name in MEMBERSHIP_TYPES:
        found[type_name] = sorted(
            ({"id": other_id, "displayName": document.get("displayName")}
             for other_id, document in stream(repo, snapshot, type_name)
             if any(edge.get("id") == object_id for edge in edges(document.get("members")))),
            key=lambda item: item["id"])
    found["roleAssignments"] = role_assignments(repo, snapshot, object_id)
    return found


def role_assignments(repo: Repository, snapshot: Snapshot,
                     principal_id: str) -> list[Document]:
    """The unified role assignments of a principal, with each role's display name."""
    assigned = sorted((document for _, document in stream(repo, snapshot, "roleAssignments")
                       if document.get("principalId") == principal_id),
                      key=lambda document: str(document.get("id")))
    return [{"id": document.get("id"), "roleDefinitionId": document.get("roleDefinitionId"),
             "roleName": _role_name(repo, snapshot, document.get("roleDefinitionId")),
             "directoryScopeId": document.get("directoryScopeId")}
            for document in assigned]


def _role_name(repo: Repository, snapshot: Snapshot, definition_id: Any) -> str | None:
    if not isinstance(definition_id, str) or "roleDefinitions" not in snapshot.types:
        return None
    try:
        name = repo.get(snapshot, "roleDefinitions", definition_id).get("displayName")
    except ObjectNotFound:
        return None
    return name if isinstance(name, str) else None


def licence_names(repo: Repository, snapshot: Snapshot,
                  document: Document) -> list[Document]:
    """The object's assigned licences with their ``skuPartNumber`` from the snapshot's
    ``subscribedSkus`` (None when the snapshot holds no such subscription)."""
    assigned = [item for item in document.get("assignedLicenses") or []
                if isinstance(item, dict)]
    if not assigned:
        return []
    parts = {sku.get("skuId"): sku.get("skuPartNumber")
             for _, sku in stream(repo, snapshot, "subscribedSkus")}
    return [{"skuId": item.get("skuId"), "skuPartNumber": parts.get(item.get("skuId"))}
            for item in assigned]


def names_of(catalog: Catalog, snapshot_ids: Iterable[str],
             object_ids: Iterable[str]) -> dict[str, str | None]:
    """Display names of objects by id, from the first of the snapshots that holds each.

    A snapshot the catalog has not recorded is passed over: names are a courtesy, and
    ``reindex`` brings them back.
    """
    wanted = sorted(set(object_ids))
    names: dict[str, str | None] = {}
    for snapshot_id in snapshot_ids:
        missing = [object_id for object_id in wanted if object_id not in names]
        if not missing:
            break
        try:
            names.update(catalog.names_at(snapshot_id, missing))
        except CatalogError:
            continue
    return names


def relationship_ids(document: Document, relations: Iterable[str]) -> list[str]:
    """The ids every relationship of the document points at."""
    return [edge["id"] for name in relations for edge in edges(document.get(name))
            if isinstance(edge.get("id"), str)]
