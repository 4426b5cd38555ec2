"""The entity type of the response to a directory request, from its path.

Used to validate documentation example bodies and emulator responses against the
schema: ``/users/*/memberOf`` answers a collection of ``directoryObject`` (each item
naming its own type with ``@odata.type``), ``/users/*`` one ``user``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class ResponseType:
    """What a response body holds: one entity of ``type``, or a collection of them."""

    type: str
    collection: bool


_KIND_TYPES = {
    "users": "user", "groups": "group", "applications": "application",
    "servicePrincipals": "servicePrincipal", "devices": "device",
    "directory/administrativeUnits": "administrativeUnit", "directoryRoles": "directoryRole",
    "roleManagement/directory/roleDefinitions": "unifiedRoleDefinition",
    "roleManagement/directory/roleAssignments": "unifiedRoleAssignment",
    "oauth2PermissionGrants": "oAuth2PermissionGrant",
    "identity/conditionalAccess/policies": "conditionalAccessPolicy",
    "identity/conditionalAccess/namedLocations": "namedLocation",
    "groupSettings": "groupSetting", "organization": "organization", "domains": "domain",
    "subscribedSkus": "subscribedSku", "directoryObjects": "directoryObject",
    "directory/deletedItems": "directoryObject",
}
_DIRECTORY_OBJECT_NAVIGATIONS = (
    "members", "owners", "memberOf", "transitiveMemberOf", "transitiveMembers",
    "registeredOwners", "registeredUsers", "directReports", "ownedObjects",
    "registeredDevices", "ownedDevices", "createdObjects", "sponsors",
)
_CAST = re.compile(r"/(?:microsoft\.)?graph\.(\w+)$", re.IGNORECASE)


def _table() -> dict[str, ResponseType]:
    table: dict[str, ResponseType] = {}
    for path, name in _KIND_TYPES.items():
        table[f"/{path}"] = ResponseType(name, True)
        table[f"/{path}/*"] = ResponseType(name, False)
        table[f"/{path}/delta"] = ResponseType(name, True)
        for navigation in _DIRECTORY_OBJECT_NAVIGATIONS:
            table[f"/{path}/*/{navigation}"] = ResponseType("directoryObject", True)
            table[f"/{path}/*/{navigation}/*"] = ResponseType("directoryObject", False)
        for navigation in ("appRoleAssignments", "appRoleAssignedTo"):
            table[f"/{path}/*/{navigation}"] = ResponseType("appRoleAssignment", True)
            table[f"/{path}/*/{navigation}/*"] = ResponseType("appRoleAssignment", False)
    table["/users/*/manager"] = ResponseType("directoryObject", False)
    table["/policies/authorizationPolicy"] = ResponseType("authorizationPolicy", False)
    table["/directory/administrativeUnits/*/scopedRoleMembers"] = ResponseType(
        "scopedRoleMembership", True)
    table["/directory/administrativeUnits/*/scopedRoleMembers/*"] = ResponseType(
        "scopedRoleMembership", False)
    table["/groups/*/settings"] = ResponseType("groupSetting", True)
    table["/groups/*/settings/*"] = ResponseType("groupSetting", False)
    table["/directory/deletedItems/*/restore"] = ResponseType("directoryObject", False)
    return table


_TABLE = {template.lower(): found for template, found in _table().items()}


def response_type(path: str, method: str = "GET") -> ResponseType | None:
    """The response type for a path pattern (``/groups/*/members/microsoft.graph.user``).

    A trailing type cast narrows the type; a POST to a collection answers the one entity
    it created. None for paths outside the directory table.
    """
    cast = _CAST.search(path)
    if cast is not None:
        base = response_type(path[: cast.start()], method)
        return ResponseType(cast.group(1), base.collection) if base else None
    found = _TABLE.get(path.lower())
    if found is None:
        return None
    if method.upper() != "GET":
        return ResponseType(found.type, False)
    return found
