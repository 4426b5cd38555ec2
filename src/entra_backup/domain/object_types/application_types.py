"""Rows for applications, service principals and delegated permission grants.

Sources: graph-facts.md sections 1.1 (delta), 5.1 (soft delete), 5.2 (secrets and key
credentials), 5.5 (read-only properties, app role assignments, grants) and 6 (permissions).
"""

from __future__ import annotations

from entra_backup.domain.object_types.directory_types import DIRECTORY_READ
from entra_backup.domain.object_types.model import (
    Capture,
    ObjectType,
    Relationship,
    RestoreStrategy,
    WriteForm,
)

OWNER_TARGETS = ("users", "servicePrincipals")

APPLICATIONS = ObjectType(
    name="applications",
    path="/applications",
    entity_type="microsoft.graph.application",
    delta_path="/applications/delta",
    select=(
        "id", "appId", "displayName", "description", "signInAudience", "identifierUris",
        "web", "spa", "publicClient", "api", "appRoles", "requiredResourceAccess",
        "optionalClaims", "keyCredentials", "passwordCredentials", "tags", "notes",
        "groupMembershipClaims", "isFallbackPublicClient", "isDeviceOnlyAuthSupported",
        "info", "parentalControlSettings", "tokenEncryptionKeyId", "defaultRedirectUri",
        "serviceManagementReference", "applicationTemplateId", "publisherDomain",
        "createdDateTime", "disabledByMicrosoftStatus", "samlMetadataUrl",
    ),
    per_object_select=("keyCredentials",),
    relationships=(
        Relationship("owners", "/applications/{id}/owners", OWNER_TARGETS,
                     Capture.DELTA_ANNOTATION, WriteForm.REF),
    ),
    natural_keys=(("id",), ("appId",), ("displayName",)),
    read_permission="Application.Read.All",
    alternative_read_permissions=("Application.ReadWrite.All", DIRECTORY_READ),
    write_permissions=("Application.ReadWrite.All",),
    strip_on_create=frozenset({
        "id", "appId", "applicationTemplateId", "createdDateTime", "publisherDomain",
        "passwordCredentials", "disabledByMicrosoftStatus",
    }),
    strip_on_update=frozenset({
        "id", "appId", "applicationTemplateId", "createdDateTime", "publisherDomain",
        "passwordCredentials", "disabledByMicrosoftStatus",
    }),
    restore_strategy=RestoreStrategy.UNDELETE_THEN_RECREATE,
    soft_delete=True,
    depends_on=("users",),
    notes=(
        "Client secrets cannot be read back; a re-created application needs new secrets.",
        "Public certificates (keyCredentials.key) are read per object and re-uploaded.",
        "A re-created application gets a new appId; clients that know the old one break.",
        "Restoring an application does not restore its service principal.",
    ),
)

SERVICE_PRINCIPALS = ObjectType(
    name="servicePrincipals",
    path="/servicePrincipals",
    entity_type="microsoft.graph.servicePrincipal",
    delta_path="/servicePrincipals/delta",
    select=(
        "id", "appId", "displayName", "description", "accountEnabled",
        "appRoleAssignmentRequired", "servicePrincipalType", "servicePrincipalNames",
        "alternativeNames", "tags", "appRoles", "oauth2PermissionScopes", "replyUrls",
        "homepage", "loginUrl", "logoutUrl", "notes", "notificationEmailAddresses",
        "preferredSingleSignOnMode", "preferredTokenSigningKeyThumbprint",
        "samlSingleSignOnSettings", "appOwnerOrganizationId", "appDisplayName",
        "appDescription", "keyCredentials", "passwordCredentials", "signInAudience",
        "info", "applicationTemplateId", "disabledByMicrosoftStatus",
    ),
    relationships=(
        Relationship("owners", "/servicePrincipals/{id}/owners", OWNER_TARGETS,
                     Capture.DELTA_ANNOTATION, WriteForm.REF),
        Relationship("appRoleAssignedTo", "/servicePrincipals/{id}/appRoleAssignedTo",
                     ("users", "groups", "servicePrincipals"), Capture.PER_OBJECT,
                     WriteForm.ENTITY),
        Relationship("appRoleAssignments", "/servicePrincipals/{id}/appRoleAssignments",
                     ("servicePrincipals",), Capture.PER_OBJECT, WriteForm.NONE,
                     not_restorable_reason="the same assignments are written once, from "
                                           "the resource's appRoleAssignedTo"),
    ),
    natural_keys=(("id",), ("appId",), ("displayName",)),
    read_permission="Application.Read.All",
    alternative_read_permissions=("Application.ReadWrite.All", DIRECTORY_READ),
    write_permissions=("Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All"),
    strip_on_create=frozenset({
        "id", "applicationTemplateId", "signInAudience", "passwordCredentials",
        "appOwnerOrganizationId", "appDisplayName", "appDescription", "servicePrincipalType",
        "disabledByMicrosoftStatus",
    }),
    strip_on_update=frozenset({
        "id", "appId", "applicationTemplateId", "signInAudience", "passwordCredentials",
        "appOwnerOrganizationId", "appDisplayName", "appDescription", "servicePrincipalType",
        "disabledByMicrosoftStatus",
    }),
    restore_strategy=RestoreStrategy.UNDELETE_THEN_RECREATE,
    soft_delete=True,
    depends_on=("applications",),
    notes=("A service principal is re-created with POST /servicePrincipals {appId} "
           "pointing at the (possibly new) application.",),
)

OAUTH2_PERMISSION_GRANTS = ObjectType(
    name="oauth2PermissionGrants",
    path="/oauth2PermissionGrants",
    entity_type="microsoft.graph.oAuth2PermissionGrant",
    delta_path="/oauth2PermissionGrants/delta",
    select=("id", "clientId", "consentType", "principalId", "resourceId", "scope"),
    natural_keys=(("id",), ("clientId", "consentType", "principalId", "resourceId")),
    read_permission="DelegatedPermissionGrant.Read.All",
    alternative_read_permissions=("DelegatedPermissionGrant.ReadWrite.All", DIRECTORY_READ),
    write_permissions=("DelegatedPermissionGrant.ReadWrite.All",),
    strip_on_create=frozenset({"id"}),
    strip_on_update=frozenset({"id", "clientId", "consentType", "principalId", "resourceId"}),
    restore_strategy=RestoreStrategy.RECREATE,
    depends_on=("servicePrincipals", "users"),
)
