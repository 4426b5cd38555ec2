"""The object kinds the emulator holds, and what Graph says about each.

One row per kind: where Graph serves the collection, the CSDL entity type, whether it
supports delta and soft delete, and which application permissions read or write it.
Permission names come from the permissions sections of each type's Graph API pages
(the table and its sources: ``docs/object-types.md``, "Permissions", and
``docs/emulator-identity.md``, "Tenants, apps and permissions").
"""

from __future__ import annotations

from dataclasses import dataclass

_DIR_READ = ("Directory.Read.All", "Directory.ReadWrite.All")
_DIR_WRITE = ("Directory.ReadWrite.All",)


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of directory object."""

    name: str
    """Collection key, also the last segment of its Graph path (``users``)."""
    path: str
    """Collection path under ``/v1.0`` (``/users``, ``/identity/conditionalAccess/policies``)."""
    odata_type: str
    """CSDL entity type (``microsoft.graph.user``)."""
    read: tuple[str, ...]
    """Application permissions any one of which allows reading."""
    write: tuple[str, ...]
    """Application permissions any one of which allows writing; empty if read-only."""
    delta: bool = False
    soft_delete: bool = False
    singleton: bool = False
    """Served as one object (``/policies/authorizationPolicy``) instead of a collection."""
    max_top: int = 999
    default_top: int = 100
    paged: bool = True
    """False where Graph returns the whole collection at once (directoryRoles)."""


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind(
            "users", "/users", "microsoft.graph.user",
            read=("User.Read.All", "User.ReadWrite.All", *_DIR_READ),
            write=("User.ReadWrite.All", *_DIR_WRITE),
            delta=True, soft_delete=True,
        ),
        Kind(
            "groups", "/groups", "microsoft.graph.group",
            read=("Group.Read.All", "Group.ReadWrite.All", *_DIR_READ),
            write=("Group.ReadWrite.All", *_DIR_WRITE),
            delta=True, soft_delete=True,
        ),
        Kind(
            "applications", "/applications", "microsoft.graph.application",
            read=("Application.Read.All", "Application.ReadWrite.All", *_DIR_READ),
            write=("Application.ReadWrite.All",),
            delta=True, soft_delete=True,
        ),
        Kind(
            "servicePrincipals", "/servicePrincipals", "microsoft.graph.servicePrincipal",
            read=("Application.Read.All", "Application.ReadWrite.All", *_DIR_READ),
            write=("Application.ReadWrite.All",),
            delta=True, soft_delete=True,
        ),
        Kind(
            "administrativeUnits", "/directory/administrativeUnits",
            "microsoft.graph.administrativeUnit",
            read=("AdministrativeUnit.Read.All", "AdministrativeUnit.ReadWrite.All", *_DIR_READ),
            write=("AdministrativeUnit.ReadWrite.All", *_DIR_WRITE),
            delta=True, soft_delete=True,
        ),
        Kind(
            "devices", "/devices", "microsoft.graph.device",
            read=("Device.Read.All", "Device.ReadWrite.All", *_DIR_READ),
            write=("Device.ReadWrite.All", *_DIR_WRITE),
            delta=True,
        ),
        Kind(
            "directoryRoles", "/directoryRoles", "microsoft.graph.directoryRole",
            read=("RoleManagement.Read.Directory", "RoleManagement.ReadWrite.Directory",
                  *_DIR_READ),
            write=("RoleManagement.ReadWrite.Directory",),
            delta=True, paged=False,
        ),
        Kind(
            "roleDefinitions", "/roleManagement/directory/roleDefinitions",
            "microsoft.graph.unifiedRoleDefinition",
            read=("RoleManagement.Read.Directory", "RoleManagement.Read.All",
                  "RoleManagement.ReadWrite.Directory", *_DIR_READ),
            write=("RoleManagement.ReadWrite.Directory",),
        ),
        Kind(
            "roleAssignments", "/roleManagement/directory/roleAssignments",
            "microsoft.graph.unifiedRoleAssignment",
            read=("RoleManagement.Read.Directory", "RoleManagement.Read.All",
                  "RoleManagement.ReadWrite.Directory", *_DIR_READ),
            write=("RoleManagement.ReadWrite.Directory",),
        ),
        Kind(
            "oauth2PermissionGrants", "/oauth2PermissionGrants",
            "microsoft.graph.oAuth2PermissionGrant",
            read=("DelegatedPermissionGrant.Read.All", "DelegatedPermissionGrant.ReadWrite.All",
                  *_DIR_READ),
            write=("DelegatedPermissionGrant.ReadWrite.All", *_DIR_WRITE),
            delta=True,
        ),
        Kind(
            # Served only below a service principal or user (appRoleAssignedTo,
            # appRoleAssignments); held as a kind so assignments have their own ids.
            "appRoleAssignments", "/servicePrincipals/{id}/appRoleAssignedTo",
            "microsoft.graph.appRoleAssignment",
            read=("Application.Read.All", "AppRoleAssignment.ReadWrite.All", *_DIR_READ),
            write=("AppRoleAssignment.ReadWrite.All",),
        ),
        Kind(
            "scopedRoleMembers", "/directory/administrativeUnits/{id}/scopedRoleMembers",
            "microsoft.graph.scopedRoleMembership",
            read=("RoleManagement.Read.Directory", "RoleManagement.ReadWrite.Directory",
                  "AdministrativeUnit.Read.All", "AdministrativeUnit.ReadWrite.All", *_DIR_READ),
            write=("RoleManagement.ReadWrite.Directory",),
        ),
        Kind(
            "conditionalAccessPolicies", "/identity/conditionalAccess/policies",
            "microsoft.graph.conditionalAccessPolicy",
            read=("Policy.Read.All", "Policy.ReadWrite.ConditionalAccess"),
            write=("Policy.ReadWrite.ConditionalAccess",),
        ),
        Kind(
            "namedLocations", "/identity/conditionalAccess/namedLocations",
            "microsoft.graph.namedLocation",
            read=("Policy.Read.All", "Policy.ReadWrite.ConditionalAccess"),
            write=("Policy.ReadWrite.ConditionalAccess",),
        ),
        Kind(
            "authorizationPolicy", "/policies/authorizationPolicy",
            "microsoft.graph.authorizationPolicy",
            read=("Policy.Read.All", "Policy.ReadWrite.Authorization"),
            write=("Policy.ReadWrite.Authorization",),
            singleton=True,
        ),
        Kind(
            # groupsetting-get and group-list-settings list GroupSettings.Read.All as least
            # privileged, with Group.Read.All and Directory.Read.All also allowed.
            "groupSettings", "/groupSettings", "microsoft.graph.groupSetting",
            read=("GroupSettings.Read.All", "GroupSettings.ReadWrite.All", "Group.Read.All",
                  "Group.ReadWrite.All", *_DIR_READ),
            write=("GroupSettings.ReadWrite.All", *_DIR_WRITE),
        ),
        Kind(
            "organization", "/organization", "microsoft.graph.organization",
            read=("Organization.Read.All", "Organization.ReadWrite.All", *_DIR_READ),
            write=("Organization.ReadWrite.All",),
        ),
        Kind(
            "domains", "/domains", "microsoft.graph.domain",
            read=("Domain.Read.All", "Domain.ReadWrite.All", *_DIR_READ),
            write=("Domain.ReadWrite.All",),
        ),
        Kind(
            "subscribedSkus", "/subscribedSkus", "microsoft.graph.subscribedSku",
            read=("Organization.Read.All", "LicenseAssignment.Read.All", *_DIR_READ),
            write=(),
        ),
    )
}

RELATIONS: dict[str, tuple[str, ...]] = {
    # relation -> kinds that can be its source
    "members": ("groups", "directoryRoles", "administrativeUnits"),
    "owners": ("groups", "applications", "servicePrincipals"),
    "manager": ("users",),
    "registeredOwners": ("devices",),
    "registeredUsers": ("devices",),
}
"""Relationships held as ordered links between directory objects."""

SINGLE_VALUED = frozenset({"manager"})

