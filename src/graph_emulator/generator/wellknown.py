"""Real identifiers of Microsoft's built-in things: role templates, first-party apps,
Microsoft Graph permissions, licence SKUs and service plans.

Sources: Graph v1.0 documentation examples (``graph-v1.0-doc-examples.json``: the admin
role list of the CA001 policy example, roleDefinitions, subscribedSkus, directoryRoles),
Microsoft's "Microsoft Entra built-in roles", "Microsoft Graph permissions reference" and
"Product names and service plan identifiers for licensing" pages, as quoted in public
repositories. Each id below was seen in at least two independent places, except where a
comment says otherwise.
"""

from __future__ import annotations

from typing import NamedTuple

GLOBAL_ADMIN = "62e90394-69f5-4237-9190-012177145e10"
USER_ADMIN = "fe930be7-5e62-47db-91af-98c3a49a38b1"
HELPDESK_ADMIN = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
PASSWORD_ADMIN = "966707d0-3269-4727-9be2-8c3a10f19b9d"
GROUPS_ADMIN = "fdd7a751-b60b-444a-984c-02652fe8fa1c"
SECURITY_ADMIN = "194ae4cb-b126-40b2-bd5b-6091b380977d"
GLOBAL_READER = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"
APPLICATION_ADMIN = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
CA_ADMIN = "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9"
EXCHANGE_ADMIN = "29232cdf-9323-42fd-ade2-1d097af3e4de"
DIRECTORY_READERS = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"
GUEST_USER_ROLE = "10dae51f-b6af-4016-8d66-8c2a99b929b3"
"""The 'Guest User' role template, the default ``guestUserRoleId`` of authorizationPolicy."""

_SUPPORT = (
    "microsoft.azure.serviceHealth/allEntities/allTasks",
    "microsoft.azure.supportTickets/allEntities/allTasks",
    "microsoft.office365.webPortal/allEntities/standard/read",
    "microsoft.office365.serviceHealth/allEntities/allTasks",
    "microsoft.office365.supportTickets/allEntities/allTasks",
)


class BuiltInRole(NamedTuple):
    """A built-in directory role: template id, name, description and a few of its actions.

    The action lists of Helpdesk, Service Support and Billing Administrator are those of
    the documentation example; the others are abbreviated to a representative few.
    """

    template_id: str
    name: str
    description: str
    actions: tuple[str, ...]
    au_scopable: bool = False


BUILT_IN_ROLES = (
    BuiltInRole(GLOBAL_ADMIN, "Global Administrator",
                "Can manage all aspects of Microsoft Entra ID and Microsoft services that use "
                "Microsoft Entra identities.",
                ("microsoft.directory/users/allProperties/allTasks",
                 "microsoft.directory/groups/allProperties/allTasks",
                 "microsoft.directory/applications/allProperties/allTasks",
                 "microsoft.directory/roleAssignments/allProperties/allTasks", *_SUPPORT)),
    BuiltInRole(USER_ADMIN, "User Administrator",
                "Can manage all aspects of users and groups, including resetting passwords for "
                "limited admins.",
                ("microsoft.directory/users/create", "microsoft.directory/users/delete",
                 "microsoft.directory/users/basic/update",
                 "microsoft.directory/users/password/update",
                 "microsoft.directory/groups/create", "microsoft.directory/groups/members/update",
                 *_SUPPORT), au_scopable=True),
    BuiltInRole(HELPDESK_ADMIN, "Helpdesk Administrator",
                "Can reset passwords for non-administrators and Helpdesk Administrators.",
                ("microsoft.directory/users/invalidateAllRefreshTokens",
                 "microsoft.directory/users/bitLockerRecoveryKeys/read",
                 "microsoft.directory/users/password/update", *_SUPPORT[:2],
                 *_SUPPORT[2:]), au_scopable=True),
    BuiltInRole(PASSWORD_ADMIN, "Password Administrator",
                "Can reset passwords for non-administrators and Password Administrators.",
                ("microsoft.directory/users/password/update",
                 "microsoft.office365.webPortal/allEntities/standard/read"), au_scopable=True),
    BuiltInRole(GROUPS_ADMIN, "Groups Administrator",
                "Members of this role can create/manage groups, create/manage groups settings "
                "like naming and expiration policies, and view groups activity and audit reports.",
                ("microsoft.directory/groups/create", "microsoft.directory/groups/delete",
                 "microsoft.directory/groups/members/update",
                 "microsoft.directory/groups/owners/update",
                 *_SUPPORT), au_scopable=True),
    BuiltInRole("c4e39bd9-1100-46d3-8c65-fb160da0071f", "Authentication Administrator",
                "Can access to view, set and reset authentication method information for any "
                "non-admin user.",
                ("microsoft.directory/users/authenticationMethods/create",
                 "microsoft.directory/users/authenticationMethods/delete",
                 "microsoft.directory/users/password/update", *_SUPPORT), au_scopable=True),
    BuiltInRole(SECURITY_ADMIN, "Security Administrator",
                "Can read security information and reports, and manage configuration in "
                "Microsoft Entra ID and Office 365.",
                ("microsoft.directory/conditionalAccessPolicies/create",
                 "microsoft.directory/namedLocations/create",
                 "microsoft.directory/auditLogs/allProperties/read", *_SUPPORT)),
    BuiltInRole(GLOBAL_READER, "Global Reader",
                "Can read everything that a Global Administrator can, but not update anything.",
                ("microsoft.directory/users/allProperties/read",
                 "microsoft.directory/groups/allProperties/read",
                 "microsoft.directory/applications/allProperties/read",
                 "microsoft.office365.webPortal/allEntities/standard/read")),
    BuiltInRole(APPLICATION_ADMIN, "Application Administrator",
                "Can create and manage all aspects of app registrations and enterprise apps.",
                ("microsoft.directory/applications/create",
                 "microsoft.directory/applications/credentials/update",
                 "microsoft.directory/servicePrincipals/appRoleAssignedTo/update", *_SUPPORT)),
    BuiltInRole("158c047a-c907-4556-b7ef-446551a6b5f7", "Cloud Application Administrator",
                "Can create and manage all aspects of app registrations and enterprise apps "
                "except App Proxy.",
                ("microsoft.directory/applications/create",
                 "microsoft.directory/servicePrincipals/credentials/update", *_SUPPORT)),
    BuiltInRole(CA_ADMIN, "Conditional Access Administrator",
                "Can manage Conditional Access capabilities.",
                ("microsoft.directory/conditionalAccessPolicies/create",
                 "microsoft.directory/conditionalAccessPolicies/delete",
                 "microsoft.directory/namedLocations/create", *_SUPPORT)),
    BuiltInRole(EXCHANGE_ADMIN, "Exchange Administrator",
                "Can manage all aspects of the Exchange product.",
                ("microsoft.directory/groups/unified/create",
                 "microsoft.office365.exchange/allEntities/basic/allTasks", *_SUPPORT)),
    BuiltInRole("f28a1f50-f6e7-4571-818b-6a12f2af6b6c", "SharePoint Administrator",
                "Can manage all aspects of the SharePoint service.",
                ("microsoft.directory/groups.unified/create",
                 "microsoft.office365.sharePoint/allEntities/allTasks", *_SUPPORT)),
    BuiltInRole("b0f54661-2d74-4c50-afa3-1ec803f12efe", "Billing Administrator",
                "Can perform common billing related tasks like updating payment information.",
                ("microsoft.directory/organization/basic/update", *_SUPPORT[:2],
                 "microsoft.commerce.billing/allEntities/allTasks", *_SUPPORT[2:])),
    BuiltInRole("f023fd81-a637-4b56-95fd-791ac0226033", "Service Support Administrator",
                "Can read service health information and manage support tickets.", _SUPPORT),
    BuiltInRole("7be44c8a-adaf-4e2a-84d6-ab2649e08a13", "Privileged Authentication Administrator",
                "Can access to view, set and reset authentication method information for any "
                "user (admin or non-admin).",
                ("microsoft.directory/users/authenticationMethods/create",
                 "microsoft.directory/users/password/update", *_SUPPORT)),
    BuiltInRole("e8611ab8-c189-46e8-94e1-60213ab1f814", "Privileged Role Administrator",
                "Can manage role assignments in Microsoft Entra ID, and all aspects of "
                "Privileged Identity Management.",
                ("microsoft.directory/roleAssignments/allProperties/allTasks",
                 "microsoft.directory/roleDefinitions/allProperties/allTasks", *_SUPPORT)),
    BuiltInRole(DIRECTORY_READERS, "Directory Readers",
                "Can read basic directory information. Commonly used to grant directory read "
                "access to applications and guests.",
                ("microsoft.directory/users/standard/read",
                 "microsoft.directory/groups/standard/read")),
    BuiltInRole("5d6b6bb7-de71-4623-b4af-96380a352509", "Security Reader",
                "Can read security information and reports in Microsoft Entra ID and Office 365.",
                ("microsoft.directory/auditLogs/allProperties/read",
                 "microsoft.directory/signInReports/allProperties/read")),
    BuiltInRole("4d6ac14f-3453-41d0-bef9-a3e0c569773a", "License Administrator",
                "Can manage product licenses on users and groups.",
                ("microsoft.directory/users/assignLicense",
                 "microsoft.directory/groups/assignLicense",
                 *_SUPPORT)),
    BuiltInRole("3a2c62db-5318-420d-8d74-23affee5d9d5", "Intune Administrator",
                "Can manage all aspects of the Intune product.",
                ("microsoft.directory/devices/basic/update",
                 "microsoft.intune/allEntities/allTasks",
                 *_SUPPORT)),
    BuiltInRole("95e79109-95c0-4d8e-aee3-d01accf2d47b", "Guest Inviter",
                "Can invite guest users independent of the 'members can invite guests' setting.",
                ("microsoft.directory/users/inviteGuest",)),
)

ADMIN_ROLES_OF_CA_TEMPLATE = (
    GLOBAL_ADMIN, SECURITY_ADMIN, "f28a1f50-f6e7-4571-818b-6a12f2af6b6c", EXCHANGE_ADMIN,
    CA_ADMIN, HELPDESK_ADMIN, "b0f54661-2d74-4c50-afa3-1ec803f12efe", USER_ADMIN,
    "c4e39bd9-1100-46d3-8c65-fb160da0071f", APPLICATION_ADMIN,
    "158c047a-c907-4556-b7ef-446551a6b5f7", PASSWORD_ADMIN,
    "7be44c8a-adaf-4e2a-84d6-ab2649e08a13", "e8611ab8-c189-46e8-94e1-60213ab1f814", GLOBAL_READER,
)
"""The admin roles of Microsoft's 'Require MFA for admins' policy (documentation example)."""

MICROSOFT_SERVICES_TENANT = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
"""``appOwnerOrganizationId`` of Microsoft's first-party applications."""

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
EXCHANGE_APP_ID = "00000002-0000-0ff1-ce00-000000000000"
SHAREPOINT_APP_ID = "00000003-0000-0ff1-ce00-000000000000"
TEAMS_APP_ID = "1fec8e78-bce4-4aaf-ab1b-5451cc387264"
AZURE_PORTAL_APP_ID = "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"
INTUNE_APP_ID = "0000000a-0000-0000-c000-000000000000"

FIRST_PARTY_APPS = (
    (GRAPH_APP_ID, "Microsoft Graph"),
    (EXCHANGE_APP_ID, "Office 365 Exchange Online"),
    (SHAREPOINT_APP_ID, "Office 365 SharePoint Online"),
    (TEAMS_APP_ID, "Microsoft Teams"),
    (AZURE_PORTAL_APP_ID, "Azure Portal"),
    ("04b07795-8ddb-461a-bbee-02f9e1bf7b46", "Microsoft Azure CLI"),
    (INTUNE_APP_ID, "Microsoft Intune"),
)


class GraphPermission(NamedTuple):
    """A Microsoft Graph permission: app role (``Role``) or delegated scope (``Scope``)."""

    id: str
    value: str
    kind: str
    display: str


GRAPH_APP_ROLES = (
    GraphPermission("df021288-bdef-4463-88db-98f22de89214", "User.Read.All", "Role",
                    "Read all users' full profiles"),
    GraphPermission("741f803b-c850-494e-b5df-cde7c675a1ca", "User.ReadWrite.All", "Role",
                    "Read and write all users' full profiles"),
    GraphPermission("5b567255-7703-4780-807c-7be8301ae99b", "Group.Read.All", "Role",
                    "Read all groups"),
    GraphPermission("62a82d76-70ea-41e2-9197-370581804d09", "Group.ReadWrite.All", "Role",
                    "Read and write all groups"),
    GraphPermission("7ab1d382-f21e-4acd-a863-ba3e13f7da61", "Directory.Read.All", "Role",
                    "Read directory data"),
    GraphPermission("19dbc75e-c2e2-444c-a770-ec69d8559fc7", "Directory.ReadWrite.All", "Role",
                    "Read and write directory data"),
    GraphPermission("9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30", "Application.Read.All", "Role",
                    "Read all applications"),
    GraphPermission("1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9", "Application.ReadWrite.All", "Role",
                    "Read and write all applications"),
    GraphPermission("246dd0d5-5bd0-4def-940b-0421030a5b68", "Policy.Read.All", "Role",
                    "Read your organization's policies"),
    GraphPermission("483bed4a-2ad3-4361-a73b-c83ccdbdc53c", "RoleManagement.Read.Directory",
                    "Role", "Read all directory RBAC settings"),
    GraphPermission("9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8", "RoleManagement.ReadWrite.Directory",
                    "Role", "Read and write all directory RBAC settings"),
    GraphPermission("06b708a9-e830-4db3-a914-8e69da51d44f", "AppRoleAssignment.ReadWrite.All",
                    "Role", "Manage app permission grants and app role assignments"),
    GraphPermission("b0afded3-3588-46d8-8b3d-9842eff778da", "AuditLog.Read.All", "Role",
                    "Read all audit log data"),
    GraphPermission("230c1aed-a721-4c5d-9cb4-a90514e508ef", "Reports.Read.All", "Role",
                    "Read all usage reports"),
)

GRAPH_SCOPES = (
    GraphPermission("e1fe6dd8-ba31-4d61-89e7-88639da4683d", "User.Read", "Scope",
                    "Sign in and read user profile"),
    GraphPermission("37f7f235-527c-4136-accd-4a02d197296e", "openid", "Scope", "Sign users in"),
    GraphPermission("14dad69e-099b-42c9-810b-d002981feec1", "profile", "Scope",
                    "View users' basic profile"),
    GraphPermission("64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0", "email", "Scope",
                    "View users' email address"),
    GraphPermission("7427e0e9-2fba-42fe-b0c0-848c9e6a8182", "offline_access", "Scope",
                    "Maintain access to data you have given it access to"),
    GraphPermission("06da0dbc-49e2-44d2-8312-53f166ab848a", "Directory.Read.All", "Scope",
                    "Read directory data"),
)


class ServicePlan(NamedTuple):
    """A service plan inside a licence SKU."""

    id: str
    name: str
    service: str


EXCHANGE_PLAN = ServicePlan("efb87545-963c-4e0d-99df-69c6916d9eb0", "EXCHANGE_S_ENTERPRISE",
                            "exchange")
SHAREPOINT_PLAN = ServicePlan("5dbe027f-2339-4123-9542-606e4d348a72", "SHAREPOINTENTERPRISE",
                              "SharePoint")
TEAMS_PLAN = ServicePlan("57ff2da0-773e-42df-b2af-ffb7a2317929", "TEAMS1", "TeamspaceAPI")
ENTRA_P1_PLAN = ServicePlan("41781fb2-bc02-4b7c-bd55-b576c07bb09d", "AAD_PREMIUM",
                            "AADPremiumService")
ENTRA_P2_PLAN = ServicePlan("eec0eb4f-6444-4f95-aba0-50c24d67f998", "AAD_PREMIUM_P2",
                            "AADPremiumService")
INTUNE_PLAN = ServicePlan("c1ec4a95-1f05-45b3-a911-aa3fa01094f5", "INTUNE_A", "SCO")
LOCKBOX_PLAN = ServicePlan("9f431833-0334-42de-a7dc-70aa40db46db", "LOCKBOX_ENTERPRISE",
                           "exchange")


class Sku(NamedTuple):
    """A licence SKU the tenant subscribes to."""

    id: str
    part_number: str
    plans: tuple[ServicePlan, ...]


M365_E3 = Sku("05e9a617-0261-4cee-bb44-138d3ef5d965", "SPE_E3",
              (EXCHANGE_PLAN, SHAREPOINT_PLAN, TEAMS_PLAN, ENTRA_P1_PLAN, INTUNE_PLAN))
M365_E5 = Sku("06ebc4ee-1bb5-47dd-8120-11324bc54e06", "SPE_E5",
              (EXCHANGE_PLAN, SHAREPOINT_PLAN, TEAMS_PLAN, ENTRA_P1_PLAN, ENTRA_P2_PLAN,
               INTUNE_PLAN, LOCKBOX_PLAN))
O365_E3 = Sku("6fd2c87f-b296-42f0-b197-1e91e994b900", "ENTERPRISEPACK",
              (EXCHANGE_PLAN, SHAREPOINT_PLAN, TEAMS_PLAN))
ENTRA_P1 = Sku("078d2b04-f1bd-4111-bbd4-b4b1b354cef4", "AAD_PREMIUM", (ENTRA_P1_PLAN,))
ENTRA_P2 = Sku("84a661c4-e949-4bd2-a560-ed7766fcaf2b", "AAD_PREMIUM_P2",
               (ENTRA_P1_PLAN, ENTRA_P2_PLAN))
SKUS = (M365_E3, M365_E5, O365_E3, ENTRA_P1, ENTRA_P2)

LICENCE_BUNDLES = ((M365_E3,), (M365_E5,), (O365_E3, ENTRA_P1), ())
"""What a member user is licensed with; drawn with :data:`LICENCE_WEIGHTS`."""
LICENCE_WEIGHTS = (65, 15, 15, 5)

GROUP_UNIFIED_TEMPLATE = "62375ab9-6b52-47ed-826b-58e47e0e304b"
"""The 'Group.Unified' directory setting template (documentation example)."""
