"""What the emulator knows of Graph's schema for the kinds it serves.

Property names come from ``data/properties.json``, derived from Microsoft's v1.0 CSDL by
``tools/derive_property_names.py``. Default property sets and filterable properties come
from the list-operation pages of the Graph API reference (user-list: "By default, only a
limited set of properties are returned"; advanced-query tables in aad-advanced-queries).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from graph_emulator.model.kinds import KINDS

USER_DEFAULT = (
    "businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
    "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id",
)

NOT_DEFAULT: dict[str, frozenset[str]] = {
    # Returned only when selected: properties the list pages mark "Returned only on $select".
    "groups": frozenset({
        "allowExternalSenders", "autoSubscribeNewMembers", "hideFromAddressLists",
        "hideFromOutlookClients", "isSubscribedByMail", "unseenCount",
        "membershipRuleProcessingStatus",
        "assignedLabels", "accessType", "isArchived", "hasMembersWithLicenseErrors",
    }),
    "applications": frozenset(),
    "servicePrincipals": frozenset(),
}

FILTERABLE: dict[str, frozenset[str]] = {
    "users": frozenset({
        "id", "accountEnabled", "ageGroup", "assignedLicenses", "assignedPlans", "city",
        "companyName", "country", "createdDateTime", "creationType", "department",
        "displayName", "employeeId", "employeeHireDate", "employeeType", "externalUserState",
        "givenName", "identities", "imAddresses", "jobTitle", "mail", "mailNickname",
        "onPremisesExtensionAttributes", "onPremisesImmutableId", "onPremisesSamAccountName",
        "onPremisesSecurityIdentifier", "onPremisesSyncEnabled", "onPremisesUserPrincipalName",
        "otherMails", "postalCode", "preferredLanguage", "proxyAddresses", "state", "surname",
        "usageLocation", "userPrincipalName", "userType", "officeLocation",
    }),
    "groups": frozenset({
        "id", "classification", "createdDateTime", "description", "displayName",
        "expirationDateTime", "groupTypes", "isAssignableToRole", "mail", "mailEnabled",
        "mailNickname", "membershipRule", "onPremisesSyncEnabled", "proxyAddresses",
        "securityEnabled", "visibility", "assignedLicenses", "resourceProvisioningOptions",
    }),
    "applications": frozenset({
        "id", "appId", "displayName", "identifierUris", "publisherDomain", "signInAudience",
        "createdDateTime", "tags", "web",
    }),
    "servicePrincipals": frozenset({
        "id", "accountEnabled", "appId", "appOwnerOrganizationId", "displayName",
        "servicePrincipalNames", "servicePrincipalType", "tags", "preferredSingleSignOnMode",
    }),
    "devices": frozenset({
        "id", "accountEnabled", "deviceId", "displayName", "operatingSystem",
        "operatingSystemVersion", "trustType", "isCompliant", "isManaged",
        "approximateLastSignInDateTime", "physicalIds",
    }),
    "administrativeUnits": frozenset({"id", "displayName", "description", "visibility"}),
    "roleDefinitions": frozenset({"id", "displayName", "isBuiltIn", "templateId", "isEnabled"}),
    "roleAssignments": frozenset({
        "id", "principalId", "roleDefinitionId", "directoryScopeId", "appScopeId",
    }),
    "oauth2PermissionGrants": frozenset({"id", "clientId", "consentType", "principalId",
                                         "resourceId"}),
    "appRoleAssignments": frozenset({"id", "principalId", "resourceId", "appRoleId"}),
    "conditionalAccessPolicies": frozenset({"id", "displayName", "state"}),
    "namedLocations": frozenset({"id", "displayName", "createdDateTime", "modifiedDateTime"}),
    "directoryRoles": frozenset({"id", "roleTemplateId", "displayName"}),
    "domains": frozenset({"id", "isVerified", "isDefault"}),
}


@cache
def _table() -> dict[str, dict[str, list[str]]]:
    text = resources.files("graph_emulator.data").joinpath("properties.json").read_text()
    types: dict[str, dict[str, list[str]]] = json.loads(text)["types"]
    return types


@cache
def property_names(odata_type: str) -> frozenset[str]:
    """Structural property names of a type, its base types included."""
    entry = _table().get(odata_type.lstrip("#"))
    return frozenset(entry["properties"]) if entry else frozenset()


@cache
def navigation_names(odata_type: str) -> frozenset[str]:
    """Navigation property names of a type, its base types included."""
    entry = _table().get(odata_type.lstrip("#"))
    return frozenset(entry["navigationProperties"]) if entry else frozenset()


def selectable(kind: str, odata_type: str | None = None) -> frozenset[str]:
    """Names ``$select`` accepts for a kind (a derived type's own properties included)."""
    names = property_names(KINDS[kind].odata_type) | navigation_names(KINDS[kind].odata_type)
    if odata_type:
        names |= property_names(odata_type)
    if kind == "namedLocations":
        names |= property_names("microsoft.graph.ipNamedLocation")
        names |= property_names("microsoft.graph.countryNamedLocation")
    return names


def filterable(kind: str) -> frozenset[str]:
    """Properties a kind's ``$filter`` accepts."""
    return FILTERABLE.get(kind, frozenset({"id", "displayName"}))


def type_name(kind: str) -> str:
    """The short type name Graph uses in messages (``User``)."""
    short = KINDS[kind].odata_type.rsplit(".", 1)[-1]
    return short[0].upper() + short[1:]
