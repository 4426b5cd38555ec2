"""The declarative object-type table: one row per Entra object type.

Backup, restore, diff, export and the permissions check all read it; adding a type is
adding a row (and its tests).
"""

from entra_backup.domain.object_types.model import (
    Capture,
    Lane,
    NaturalKey,
    ObjectType,
    Relationship,
    RestoreStrategy,
    SkipRule,
    WriteForm,
)
from entra_backup.domain.object_types.registry import (
    TYPES,
    by_name,
    missing_permissions,
    missing_write_permissions,
    names,
    restore_order,
    select_types,
)

__all__ = [
    "TYPES",
    "Capture",
    "Lane",
    "NaturalKey",
    "ObjectType",
    "Relationship",
    "RestoreStrategy",
    "SkipRule",
    "WriteForm",
    "by_name",
    "missing_permissions",
    "missing_write_permissions",
    "names",
    "restore_order",
    "select_types",
]
