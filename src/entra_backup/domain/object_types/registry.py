"""The table of every object type, in restore order, and the questions asked of it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from entra_backup.domain.errors import ObjectTypeTableError, UnknownObjectType
from entra_backup.domain.object_types.application_types import (
    APPLICATIONS,
    OAUTH2_PERMISSION_GRANTS,
    SERVICE_PRINCIPALS,
)
from entra_backup.domain.object_types.directory_types import (
    ADMINISTRATIVE_UNITS,
    DEVICES,
    GROUPS,
    USERS,
)
from entra_backup.domain.object_types.licence_types import SUBSCRIBED_SKUS
from entra_backup.domain.object_types.model import ObjectType
from entra_backup.domain.object_types.policy_types import (
    AUTHORIZATION_POLICY,
    CONDITIONAL_ACCESS_POLICIES,
    GROUP_SETTINGS,
    NAMED_LOCATIONS,
)
from entra_backup.domain.object_types.role_types import (
    DIRECTORY_ROLES,
    ROLE_ASSIGNMENTS,
    ROLE_DEFINITIONS,
)

TYPES: tuple[ObjectType, ...] = (
    ADMINISTRATIVE_UNITS,
    USERS,
    GROUPS,
    DEVICES,
    APPLICATIONS,
    SERVICE_PRINCIPALS,
    OAUTH2_PERMISSION_GRANTS,
    ROLE_DEFINITIONS,
    DIRECTORY_ROLES,
    ROLE_ASSIGNMENTS,
    GROUP_SETTINGS,
    AUTHORIZATION_POLICY,
    NAMED_LOCATIONS,
    CONDITIONAL_ACCESS_POLICIES,
    SUBSCRIBED_SKUS,
)
"""Every object type, in the order a restore creates them."""

_BY_NAME: Mapping[str, ObjectType] = {t.name: t for t in TYPES}


def names() -> tuple[str, ...]:
    """The names of every type, in table order."""
    return tuple(_BY_NAME)


def by_name(name: str) -> ObjectType:
    """The type called ``name``; UnknownObjectType (listing the known ones) otherwise."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnknownObjectType(name, names()) from None


def select_types(requested: Iterable[str]) -> tuple[ObjectType, ...]:
    """The named types in table order, each once; every name must be known."""
    wanted = {by_name(name).name for name in requested}
    return tuple(t for t in TYPES if t.name in wanted)


def restore_order(types: Iterable[ObjectType] = TYPES) -> tuple[ObjectType, ...]:
    """``types`` ordered so each comes after everything it depends on.

    Dependencies outside ``types`` are taken as already present. Among types whose
    dependencies are met, table order decides, so the result is stable.
    """
    pending = list(types)
    chosen = {t.name for t in pending}
    for object_type in pending:
        for dependency in object_type.depends_on:
            if dependency not in chosen:
                by_name(dependency)
    done: list[ObjectType] = []
    placed: set[str] = set()
    while pending:
        ready = next((t for t in pending
                      if all(d in placed or d not in chosen for d in t.depends_on)), None)
        if ready is None:
            cycle = ", ".join(t.name for t in pending)
            raise ObjectTypeTableError(f"object types depend on each other in a cycle: {cycle}")
        pending.remove(ready)
        done.append(ready)
        placed.add(ready.name)
    return tuple(done)


def missing_permissions(granted: Iterable[str],
                        types: Iterable[ObjectType] = TYPES) -> dict[str, str]:
    """For each type none of whose read permissions is granted: its least-privileged one."""
    held = {p.lower() for p in granted}
    return {t.name: t.read_permission for t in types
            if not any(p.lower() in held for p in t.read_permissions)}


def missing_write_permissions(granted: Iterable[str],
                              types: Iterable[ObjectType] = TYPES) -> dict[str, tuple[str, ...]]:
    """For each restorable type: the write permissions it needs and that are not granted."""
    held = {p.lower() for p in granted}
    missing = {t.name: tuple(p for p in t.write_permissions if p.lower() not in held)
               for t in types}
    return {name: permissions for name, permissions in missing.items() if permissions}
