"""Finding a backed-up object the way a person names it: its id, or its UPN, mail or appId.

Ids are looked up first. Otherwise the catalog's key columns are searched, ignoring case.
When several objects carry the value over time (a UPN given to a new user after the old
one left), the objects whose newest version carries it win; if that still leaves more than
one (an application and its service principal share an appId), the user chooses by id or
``--type``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from entra_backup.catalog import VersionRow
from entra_backup.domain.errors import UsageError
from entra_backup.store.errors import ObjectNotFound

if TYPE_CHECKING:
    from entra_backup.catalog import Catalog


class AmbiguousObject(UsageError):
    """A UPN, mail or appId that names more than one backed-up object."""


def find_object(catalog: Catalog, tenant: str, reference: str,
                type_name: str | None = None) -> list[VersionRow]:
    """The timeline (every version, oldest first) of the object ``reference`` names."""
    timeline = _of_type(catalog.timeline(reference, tenant), type_name)
    if timeline:
        return timeline
    rows = catalog.with_key(tenant, reference, type_name)
    if not rows:
        kind = f"{type_name} object" if type_name else "object"
        raise ObjectNotFound(f"no backup of tenant {tenant!r} holds an {kind} with the id, "
                             f"UPN, mail or appId {reference!r}")
    type_, object_id = _one(reference, rows, type_name)
    return _of_type(catalog.timeline(object_id, tenant), type_)


def _of_type(timeline: list[VersionRow], type_name: str | None) -> list[VersionRow]:
    return [row for row in timeline if type_name is None or row.type == type_name]


def _one(reference: str, rows: list[VersionRow], type_name: str | None) -> tuple[str, str]:
    """The single object the matching versions belong to, or AmbiguousObject."""
    names = {(row.type, row.object_id): row.display_name for row in rows}
    current = {(row.type, row.object_id) for row in rows
               if row.last_snapshot is None and not row.deleted}
    candidates = sorted(current or names)
    if len(candidates) == 1:
        return candidates[0]
    listed = ", ".join(f"{type_} {object_id}" + (f" ({names[type_, object_id]})"
                                                 if names[type_, object_id] else "")
                       for type_, object_id in candidates)
    several_types = len({type_ for type_, _ in candidates}) > 1
    hint = " or --type" if several_types and type_name is None else ""
    raise AmbiguousObject(f"{reference!r} matches {len(candidates)} objects: {listed}; "
                          f"give one of these ids{hint}")
