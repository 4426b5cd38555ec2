"""The Microsoft Graph application permissions the product uses, as granted to apps."""

from __future__ import annotations

PRODUCT_READ_PERMISSIONS: frozenset[str] = frozenset({
    "User.Read.All",
    "Group.Read.All",
    "GroupMember.Read.All",
    "Application.Read.All",
    "RoleManagement.Read.Directory",
    "AdministrativeUnit.Read.All",
    "Device.Read.All",
    "DelegatedPermissionGrant.Read.All",
    "Policy.Read.All",
    "Directory.Read.All",
    "Organization.Read.All",
    "Domain.Read.All",
    "AuditLog.Read.All",
})
"""Everything a backup reads (graph-facts.md section 6)."""

PRODUCT_WRITE_PERMISSIONS: frozenset[str] = frozenset({
    "User.ReadWrite.All",
    "Group.ReadWrite.All",
    "GroupMember.ReadWrite.All",
    "Application.ReadWrite.All",
    "AppRoleAssignment.ReadWrite.All",
    "RoleManagement.ReadWrite.Directory",
    "AdministrativeUnit.ReadWrite.All",
    "Device.ReadWrite.All",
    "DelegatedPermissionGrant.ReadWrite.All",
    "Policy.ReadWrite.ConditionalAccess",
    "Policy.ReadWrite.Authorization",
    "Directory.ReadWrite.All",
})
"""Everything a restore writes."""

PRODUCT_PERMISSIONS: frozenset[str] = PRODUCT_READ_PERMISSIONS | PRODUCT_WRITE_PERMISSIONS
"""The demo app holds all of them, so every product feature works out of the box."""

BACKUP_READ_PERMISSIONS: frozenset[str] = PRODUCT_READ_PERMISSIONS
"""A least-privilege backup app: reads only, so a stolen backup credential cannot write."""
