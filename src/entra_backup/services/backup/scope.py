"""What a tenant's backups cover: object types, and optionally only some users and groups."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from entra_backup.domain.canonical import canonical_bytes
from entra_backup.domain.object_ids import path_segment
from entra_backup.domain.object_types import TYPES as ALL_TYPES
from entra_backup.domain.object_types import ObjectType, select_types
from entra_backup.graph.client import GraphClient


@dataclass(frozen=True)
class BackupScope:
    """Types to back up (all by default) and, optionally, the users and groups to keep.

    ``user_ids``/``group_ids`` name objects to keep; ``member_of`` names groups whose
    direct members (and the groups themselves) are kept too. With none of the three given,
    every user and group is kept.
    """

    types: tuple[str, ...] = ()
    user_ids: frozenset[str] = frozenset()
    group_ids: frozenset[str] = frozenset()
    member_of: frozenset[str] = frozenset()

    @property
    def filters_objects(self) -> bool:
        """Whether only some users and groups are kept."""
        return bool(self.user_ids or self.group_ids or self.member_of)

    def object_types(self) -> tuple[ObjectType, ...]:
        """The selected types in table order."""
        return select_types(self.types) if self.types else ALL_TYPES

    def fingerprint(self) -> str:
        """Identifies the object filter: a delta link only carries on under the same one."""
        value = {"users": sorted(self.user_ids), "groups": sorted(self.group_ids),
                 "member_of": sorted(self.member_of)}
        return hashlib.sha256(canonical_bytes(value)).hexdigest()[:16]

    def to_json(self) -> dict[str, Any]:
        """The scope as stored in the tenant registry."""
        return {"types": list(self.types), "user_ids": sorted(self.user_ids),
                "group_ids": sorted(self.group_ids), "member_of": sorted(self.member_of)}

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> BackupScope:
        """Parse the stored form (missing keys mean "everything")."""
        return cls(tuple(value.get("types", ())), frozenset(value.get("user_ids", ())),
                   frozenset(value.get("group_ids", ())), frozenset(value.get("member_of", ())))


@dataclass
class ObjectFilter:
    """The resolved filter: which user and group ids a backup keeps (None: all)."""

    allowed: dict[str, set[str]] = field(default_factory=dict)

    def keeps(self, type_name: str, object_id: str) -> bool:
        """Whether the object belongs in the backup."""
        ids = self.allowed.get(type_name)
        return ids is None or object_id in ids


async def resolve(scope: BackupScope, client: GraphClient) -> ObjectFilter:
    """Expand ``member_of`` into user and group ids by reading those groups' members."""
    if not scope.filters_objects:
        return ObjectFilter()
    users, groups = set(scope.user_ids), set(scope.group_ids) | set(scope.member_of)
    for group_id in sorted(scope.member_of):
        segment = path_segment("groups", group_id, "the backup scope's member_of")
        async for member in client.iterate(f"/groups/{segment}/members",
                                           {"$select": "id", "$top": "999"},
                                           permission="GroupMember.Read.All"):
            _sort_member(member, users, groups)
    return ObjectFilter({"users": users, "groups": groups})


def _sort_member(member: Mapping[str, Any], users: set[str], groups: set[str]) -> None:
    kind = str(member.get("@odata.type", ""))
    target = groups if kind.endswith(".group") else users
    if isinstance(member.get("id"), str):
        target.add(member["id"])

