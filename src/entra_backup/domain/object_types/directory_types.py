"""Rows for administrative units, users, groups and devices.

Sources: graph-facts.md section 1.1 (delta), 5.1 (soft delete), 5.3 (users), 5.4 (groups)
and 6 (permissions); the v1.0 CSDL for property names.
"""

from __future__ import annotations

from entra_backup.domain.object_types.model import (
    Capture,
    ObjectType,
    Relationship,
    RestoreStrategy,
    SkipRule,
    WriteForm,
)

DIRECTORY_READ = "Directory.Read.All"
MEMBER_TARGETS = ("users", "groups", "devices", "servicePrincipals")
SYNCED = SkipRule("onPremisesSyncEnabled", True,
                  "synchronised from on-premises Active Directory, which is its source of truth")

ADMINISTRATIVE_UNITS = ObjectType(
    name="administrativeUnits",
    path="/directory/administrativeUnits",
    entity_type="microsoft.graph.administrativeUnit",
    delta_path="/directory/administrativeUnits/delta",
    select=("id", "displayName", "description", "visibility", "isMemberManagementRestricted",
            "membershipType", "membershipRule", "membershipRuleProcessingState"),
    relationships=(
        Relationship("members", "/directory/administrativeUnits/{id}/members",
                     ("users", "groups", "devices"), Capture.DELTA_ANNOTATION, WriteForm.REF),
        Relationship("scopedRoleMembers", "/directory/administrativeUnits/{id}/scopedRoleMembers",
                     ("users", "groups", "servicePrincipals"), Capture.PER_OBJECT,
                     WriteForm.ENTITY),
    ),
    natural_keys=(("id",), ("displayName",)),
    read_permission="AdministrativeUnit.Read.All",
    alternative_read_permissions=("AdministrativeUnit.ReadWrite.All", DIRECTORY_READ),
    write_permissions=("AdministrativeUnit.ReadWrite.All",),
    strip_on_create=frozenset({"id"}),
    strip_on_update=frozenset({"id"}),
    restore_strategy=RestoreStrategy.UNDELETE_THEN_RECREATE,
    soft_delete=True,
)

USERS = ObjectType(
    name="users",
    path="/users",
    entity_type="microsoft.graph.user",
    delta_path="/users/delta",
    select=(
        "id", "userPrincipalName", "displayName", "givenName", "surname", "mail",
        "mailNickname", "accountEnabled", "userType", "jobTitle", "department", "companyName",
        "officeLocation", "employeeId", "employeeType", "businessPhones", "mobilePhone",
        "faxNumber", "streetAddress", "city", "state", "postalCode", "country",
        "usageLocation", "preferredLanguage", "otherMails", "proxyAddresses", "imAddresses",
        "passwordPolicies", "assignedLicenses", "identities", "ageGroup",
        "consentProvidedForMinor", "showInAddressList", "createdDateTime", "creationType",
        "externalUserState", "securityIdentifier", "onPremisesSyncEnabled",
        "onPremisesImmutableId", "onPremisesSamAccountName", "onPremisesUserPrincipalName",
        "onPremisesDomainName", "onPremisesSecurityIdentifier",
        "onPremisesDistinguishedName", "onPremisesLastSyncDateTime",
        "onPremisesExtensionAttributes",
    ),
    relationships=(
        Relationship("manager", "/users/{id}/manager", ("users",), Capture.DELTA_ANNOTATION,
                     WriteForm.REF, single_valued=True),
    ),
    natural_keys=(("id",), ("userPrincipalName",)),
    read_permission="User.Read.All",
    alternative_read_permissions=("User.ReadWrite.All", DIRECTORY_READ),
    write_permissions=("User.ReadWrite.All",),
    strip_on_create=frozenset({
        "id", "createdDateTime", "creationType", "externalUserState", "imAddresses",
        "onPremisesDistinguishedName", "onPremisesDomainName", "onPremisesLastSyncDateTime",
        "onPremisesSamAccountName", "onPremisesSecurityIdentifier", "onPremisesSyncEnabled",
        "onPremisesUserPrincipalName", "proxyAddresses", "securityIdentifier",
        "assignedLicenses",
    }),
    strip_on_update=frozenset({
        "id", "createdDateTime", "creationType", "externalUserState", "imAddresses",
        "onPremisesDistinguishedName", "onPremisesDomainName", "onPremisesLastSyncDateTime",
        "onPremisesSamAccountName", "onPremisesSecurityIdentifier", "onPremisesSyncEnabled",
        "onPremisesUserPrincipalName", "proxyAddresses", "securityIdentifier",
        "assignedLicenses",
    }),
    property_actions=(("assignedLicenses", "/users/{id}/assignLicense"),),
    restore_skips=(SYNCED,),
    restore_strategy=RestoreStrategy.UNDELETE_THEN_RECREATE,
    soft_delete=True,
    depends_on=("administrativeUnits",),
    notes=(
        "A re-created user needs a new passwordProfile; the old password and "
        "authentication methods cannot be restored.",
        "Guests (userType Guest) are re-invited through the invitation API, not created.",
        "Restoring a user who holds an admin role needs a privileged directory role as well.",
    ),
)

GROUPS = ObjectType(
    name="groups",
    path="/groups",
    entity_type="microsoft.graph.group",
    delta_path="/groups/delta",
    select=(
        "id", "displayName", "description", "mailNickname", "mailEnabled", "securityEnabled",
        "groupTypes", "membershipRule", "membershipRuleProcessingState", "isAssignableToRole",
        "visibility", "classification", "mail", "proxyAddresses", "preferredDataLocation",
        "preferredLanguage", "theme", "resourceBehaviorOptions",
        "resourceProvisioningOptions", "assignedLicenses", "createdDateTime",
        "expirationDateTime", "renewedDateTime", "securityIdentifier",
        "onPremisesSyncEnabled", "onPremisesSamAccountName", "onPremisesSecurityIdentifier",
        "onPremisesDomainName", "onPremisesLastSyncDateTime",
    ),
    relationships=(
        Relationship("members", "/groups/{id}/members", MEMBER_TARGETS,
                     Capture.DELTA_ANNOTATION, WriteForm.BIND, max_per_request=20),
        Relationship("owners", "/groups/{id}/owners", ("users", "servicePrincipals"),
                     Capture.DELTA_ANNOTATION, WriteForm.BIND, max_per_request=20),
    ),
    natural_keys=(("id",), ("mailNickname",)),
    read_permission="Group.Read.All",
    alternative_read_permissions=("Group.ReadWrite.All", DIRECTORY_READ),
    write_permissions=("Group.ReadWrite.All", "GroupMember.ReadWrite.All"),
    strip_on_create=frozenset({
        "id", "createdDateTime", "expirationDateTime", "renewedDateTime", "mail",
        "proxyAddresses", "securityIdentifier", "onPremisesSyncEnabled",
        "onPremisesSamAccountName", "onPremisesSecurityIdentifier", "onPremisesDomainName",
        "onPremisesLastSyncDateTime", "assignedLicenses",
    }),
    strip_on_update=frozenset({
        "id", "createdDateTime", "expirationDateTime", "renewedDateTime", "mail",
        "proxyAddresses", "securityIdentifier", "onPremisesSyncEnabled",
        "onPremisesSamAccountName", "onPremisesSecurityIdentifier", "onPremisesDomainName",
        "onPremisesLastSyncDateTime", "assignedLicenses", "mailEnabled", "groupTypes",
        "isAssignableToRole", "resourceProvisioningOptions", "resourceBehaviorOptions",
    }),
    create_only_later=frozenset({
        "allowExternalSenders", "autoSubscribeNewMembers", "hideFromAddressLists",
        "hideFromOutlookClients",
    }),
    property_actions=(("assignedLicenses", "/groups/{id}/assignLicense"),),
    restore_skips=(SYNCED,),
    restore_strategy=RestoreStrategy.UNDELETE_THEN_RECREATE,
    soft_delete=True,
    depends_on=("users",),
    notes=(
        "Only Microsoft 365 groups are soft-deleted; security groups are re-created.",
        "Members of dynamic groups are not written; the membershipRule is restored.",
        "Mail-enabled security groups and distribution lists are read-only in Graph.",
        "Role-assignable groups also need RoleManagement.ReadWrite.Directory.",
    ),
)

DEVICES = ObjectType(
    name="devices",
    path="/devices",
    entity_type="microsoft.graph.device",
    delta_path="/devices/delta",
    select=(
        "id", "deviceId", "displayName", "accountEnabled", "operatingSystem",
        "operatingSystemVersion", "trustType", "isCompliant", "isManaged",
        "approximateLastSignInDateTime", "registrationDateTime", "profileType",
        "manufacturer", "model", "alternativeSecurityIds",
        "physicalIds", "systemLabels", "onPremisesSyncEnabled", "onPremisesLastSyncDateTime",
    ),
    relationships=(
        Relationship("registeredOwners", "/devices/{id}/registeredOwners", ("users",),
                     Capture.DELTA_ANNOTATION, WriteForm.REF),
        Relationship("registeredUsers", "/devices/{id}/registeredUsers", ("users",),
                     Capture.DELTA_ANNOTATION, WriteForm.REF),
    ),
    natural_keys=(("id",), ("deviceId",)),
    read_permission="Device.Read.All",
    alternative_read_permissions=("Device.ReadWrite.All", DIRECTORY_READ),
    write_permissions=("Device.ReadWrite.All",),
    strip_on_update=frozenset({
        "id", "deviceId", "displayName", "operatingSystem", "operatingSystemVersion",
        "trustType", "isCompliant", "isManaged", "approximateLastSignInDateTime",
        "registrationDateTime", "profileType", "manufacturer", "model",
        "alternativeSecurityIds", "physicalIds", "systemLabels", "onPremisesSyncEnabled",
        "onPremisesLastSyncDateTime",
    }),
    restore_strategy=RestoreStrategy.UPDATE_ONLY,
    depends_on=("users",),
    notes=("A deleted device is re-registered by the device itself; a restore sets back "
           "accountEnabled of devices that still exist.",),
)
