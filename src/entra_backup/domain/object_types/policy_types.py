"""Rows for tenant settings, named locations and Conditional Access policies.

Sources: graph-facts.md sections 1.1 (no delta for policies), 4.2 (the Conditional Access
lane), 5.1 (policyDeletableItem), 5.7 (CA and named locations) and 6 (permissions).
"""

from __future__ import annotations

from entra_backup.domain.object_types.directory_types import DIRECTORY_READ
from entra_backup.domain.object_types.model import Lane, ObjectType, RestoreStrategy

POLICY_READ = "Policy.Read.All"
CA_WRITE = ("Policy.ReadWrite.ConditionalAccess", "Policy.Read.All", "Application.Read.All")
CA_NOTES = ("Application permissions cannot restore from the Conditional Access recycle bin "
            "(identity/conditionalAccess/deletedItems), so deleted items are re-created.",)

GROUP_SETTINGS = ObjectType(
    name="groupSettings",
    path="/groupSettings",
    entity_type="microsoft.graph.groupSetting",
    select=("id", "displayName", "templateId", "values"),
    natural_keys=(("id",), ("templateId",)),
    read_permission="GroupSettings.Read.All",
    alternative_read_permissions=("GroupSettings.ReadWrite.All", "Group.Read.All",
                                  "Group.ReadWrite.All", DIRECTORY_READ,
                                  "Directory.ReadWrite.All"),
    write_permissions=("GroupSettings.ReadWrite.All",),
    strip_on_create=frozenset({"id", "displayName"}),
    strip_on_update=frozenset({"id", "displayName", "templateId"}),
    restore_strategy=RestoreStrategy.RECREATE,
    notes=("Tenant-wide directory settings; at most one per template.",),
)

AUTHORIZATION_POLICY = ObjectType(
    name="authorizationPolicy",
    path="/policies/authorizationPolicy",
    entity_type="microsoft.graph.authorizationPolicy",
    select=("id", "displayName", "description", "allowInvitesFrom",
            "allowedToSignUpEmailBasedSubscriptions", "allowedToUseSSPR",
            "allowEmailVerifiedUsersToJoinOrganization", "allowUserConsentForRiskyApps",
            "blockMsolPowerShell", "defaultUserRolePermissions", "guestUserRoleId"),
    natural_keys=(("id",),),
    read_permission=POLICY_READ,
    alternative_read_permissions=("Policy.ReadWrite.Authorization",),
    write_permissions=("Policy.ReadWrite.Authorization",),
    strip_on_update=frozenset({"id", "displayName", "description"}),
    restore_strategy=RestoreStrategy.UPDATE_ONLY,
    singleton=True,
)

NAMED_LOCATIONS = ObjectType(
    name="namedLocations",
    path="/identity/conditionalAccess/namedLocations",
    entity_type="microsoft.graph.namedLocation",
    derived_types=("microsoft.graph.ipNamedLocation", "microsoft.graph.countryNamedLocation"),
    select=("id", "displayName", "createdDateTime", "modifiedDateTime", "ipRanges",
            "isTrusted", "countriesAndRegions", "countryLookupMethod",
            "includeUnknownCountriesAndRegions"),
    natural_keys=(("id",), ("displayName",)),
    read_permission=POLICY_READ,
    alternative_read_permissions=("Policy.ReadWrite.ConditionalAccess",),
    write_permissions=CA_WRITE,
    strip_on_create=frozenset({"id", "createdDateTime", "modifiedDateTime"}),
    strip_on_update=frozenset({"id", "createdDateTime", "modifiedDateTime"}),
    restore_strategy=RestoreStrategy.RECREATE,
    lane=Lane.CONDITIONAL_ACCESS,
    notes=CA_NOTES,
)

CONDITIONAL_ACCESS_POLICIES = ObjectType(
    name="conditionalAccessPolicies",
    path="/identity/conditionalAccess/policies",
    entity_type="microsoft.graph.conditionalAccessPolicy",
    select=("id", "displayName", "state", "conditions", "grantControls", "sessionControls",
            "templateId", "createdDateTime", "modifiedDateTime"),
    natural_keys=(("id",), ("displayName",)),
    read_permission=POLICY_READ,
    alternative_read_permissions=("Policy.ReadWrite.ConditionalAccess",),
    write_permissions=CA_WRITE,
    strip_on_create=frozenset({"id", "createdDateTime", "modifiedDateTime", "templateId"}),
    strip_on_update=frozenset({"id", "createdDateTime", "modifiedDateTime", "templateId"}),
    restore_strategy=RestoreStrategy.RECREATE,
    depends_on=("namedLocations", "users", "groups", "servicePrincipals"),
    lane=Lane.CONDITIONAL_ACCESS,
    notes=(*CA_NOTES,
           "Policies name users, groups, roles, applications and locations by id; every "
           "reference is remapped, and re-created policies start in report-only state."),
)
