"""Rows for role definitions, activated directory roles and role assignments.

Sources: graph-facts.md sections 1.1 (directoryRoles delta, no delta for the unified RBAC
collections), 2 (directoryRoles not paged), 5.6 (roles) and 6 (permissions).
"""

from __future__ import annotations

from entra_backup.domain.object_types.directory_types import DIRECTORY_READ
from entra_backup.domain.object_types.model import (
    Capture,
    ObjectType,
    Relationship,
    RestoreStrategy,
    SkipRule,
    WriteForm,
)

ROLE_READ = "RoleManagement.Read.Directory"
ROLE_READ_ALTERNATIVES = ("RoleManagement.ReadWrite.Directory", DIRECTORY_READ)
ROLE_WRITE = ("RoleManagement.ReadWrite.Directory",)

ROLE_DEFINITIONS = ObjectType(
    name="roleDefinitions",
    path="/roleManagement/directory/roleDefinitions",
    entity_type="microsoft.graph.unifiedRoleDefinition",
    select=("id", "displayName", "description", "isBuiltIn", "isEnabled", "resourceScopes",
            "rolePermissions", "templateId", "version"),
    natural_keys=(("id",), ("templateId",), ("displayName",)),
    read_permission=ROLE_READ,
    alternative_read_permissions=ROLE_READ_ALTERNATIVES,
    write_permissions=ROLE_WRITE,
    strip_on_create=frozenset({"id", "isBuiltIn"}),
    strip_on_update=frozenset({"id", "isBuiltIn", "templateId"}),
    restore_skips=(SkipRule("isBuiltIn", True, "built-in role definitions are read-only"),),
    restore_strategy=RestoreStrategy.RECREATE,
    notes=("Custom roles need Entra ID P1 or P2; templateId is kept so ids stay stable.",),
)

DIRECTORY_ROLES = ObjectType(
    name="directoryRoles",
    path="/directoryRoles",
    entity_type="microsoft.graph.directoryRole",
    delta_path="/directoryRoles/delta",
    select=("id", "displayName", "description", "roleTemplateId"),
    relationships=(
        Relationship("members", "/directoryRoles/{id}/members",
                     ("users", "groups", "servicePrincipals"), Capture.DELTA_ANNOTATION,
                     WriteForm.NONE,
                     not_restorable_reason="role membership is restored as unified role "
                                           "assignments (roleAssignments)"),
    ),
    natural_keys=(("id",), ("roleTemplateId",)),
    read_permission=ROLE_READ,
    alternative_read_permissions=ROLE_READ_ALTERNATIVES,
    restore_strategy=RestoreStrategy.NOT_RESTORABLE,
    not_restorable_reason="activated built-in roles: Graph activates them from their template "
                          "when a role assignment needs them",
    paged=False,
)

ROLE_ASSIGNMENTS = ObjectType(
    name="roleAssignments",
    path="/roleManagement/directory/roleAssignments",
    entity_type="microsoft.graph.unifiedRoleAssignment",
    select=("id", "principalId", "roleDefinitionId", "directoryScopeId", "appScopeId",
            "condition"),
    natural_keys=(("id",), ("principalId", "roleDefinitionId", "directoryScopeId")),
    read_permission=ROLE_READ,
    alternative_read_permissions=ROLE_READ_ALTERNATIVES,
    write_permissions=ROLE_WRITE,
    strip_on_create=frozenset({"id"}),
    strip_on_update=frozenset({"id", "principalId", "roleDefinitionId", "directoryScopeId",
                               "appScopeId"}),
    restore_strategy=RestoreStrategy.RECREATE,
    depends_on=("administrativeUnits", "users", "groups", "servicePrincipals",
                "roleDefinitions"),
    notes=("PIM eligible and time-bound assignments are schedules, not role assignments.",),
)
