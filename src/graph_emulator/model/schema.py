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
from typing import Any

from graph_emulator.model.kinds import KINDS

USER_DEFAULT = (
    "businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
    "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id",
)

NOT_DEFAULT: dict[str, frozenset[str]] = {
    # Returned only when selected: the group resource page marks these "Returned only on
    # $select"; none of them appears in the documentation's GET /groups examples.
    "groups": frozenset({
        "accessType", "allowExternalSenders", "assignedLabels", "assignedLicenses",
        "autoSubscribeNewMembers", "hasMembersWithLicenseErrors", "hideFromAddressLists",
        "hideFromOutlookClients", "infoCatalogs", "isArchived", "isFavorite",
        "isManagementRestricted", "isSubscribedByMail", "licenseProcessingState",
        "membershipRuleProcessingStatus", "onPremisesExtensionAttributes", "organizationId",
        "uniqueName", "unseenConversationsCount", "unseenCount", "unseenMessagesCount",
        "welcomeMessageEnabled",
    }),
}

POPULATED: dict[str, frozenset[str]] = {
    # Nullable complex properties Graph answers with an object of defaults rather than
    # null (POST /applications and POST /servicePrincipals documentation examples).
    "microsoft.graph.application": frozenset({
        "api", "info", "parentalControlSettings", "publicClient", "spa", "web"}),
    "microsoft.graph.servicePrincipal": frozenset({"info"}),
}

_NON_NULL_PRIMITIVES: dict[str, Any] = {
    "Edm.Boolean": False,
    "Edm.Int32": 0,
    "Edm.Int64": 0,
    "Edm.Double": 0.0,
    "Edm.DateTimeOffset": "0001-01-01T00:00:00Z",
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
        "membershipRuleProcessingState", "hasMembersWithLicenseErrors",
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
def _data() -> dict[str, Any]:
    text = resources.files("graph_emulator.data").joinpath("properties.json").read_text()
    data: dict[str, Any] = json.loads(text)
    return data


def _entry(odata_type: str) -> dict[str, Any]:
    name = odata_type.lstrip("#")
    found: dict[str, Any] = _data()["types"].get(name) or _data()["complexTypes"].get(name, {})
    return found


@cache
def property_names(odata_type: str) -> frozenset[str]:
    """Structural property names of a type, its base types included."""
    return frozenset(_entry(odata_type).get("properties", {}))


@cache
def navigation_names(odata_type: str) -> frozenset[str]:
    """Navigation property names of a type, its base types included."""
    return frozenset(_entry(odata_type).get("navigationProperties", ()))


@cache
def defaults(odata_type: str, depth: int = 0) -> dict[str, Any]:
    """What Graph answers for each property of a type that holds no value.

    Collections are ``[]``, non-nullable primitives their zero value, complex properties
    Graph populates an object of defaults, anything else ``null``. Treat the result as
    read-only and copy it with :func:`fresh`.
    """
    populated = POPULATED.get(odata_type.lstrip("#"), frozenset())
    complexes = _data()["complexTypes"]
    result: dict[str, Any] = {}
    for name, (type_name, nullable) in _entry(odata_type).get("properties", {}).items():
        if type_name == "Edm.Stream":
            continue  # media streams (an app's logo) are never part of the JSON body
        if type_name.startswith("Collection("):
            result[name] = []
        elif type_name in complexes and depth < 3 and (not nullable or name in populated):
            result[name] = defaults(type_name, depth + 1)
        elif not nullable and type_name in _NON_NULL_PRIMITIVES:
            result[name] = _NON_NULL_PRIMITIVES[type_name]
        else:
            result[name] = None
    return result


@cache
def _complex_properties(odata_type: str) -> dict[str, tuple[str, bool]]:
    """Properties of a type whose values are complex: name -> (complex type, collection)."""
    complexes = _data()["complexTypes"]
    found: dict[str, tuple[str, bool]] = {}
    for name, (type_name, _) in _entry(odata_type).get("properties", {}).items():
        inner = type_name.removeprefix("Collection(").removesuffix(")")
        if inner in complexes:
            found[name] = (inner, type_name.startswith("Collection("))
    return found


def complete(value: Any, type_name: str) -> Any:
    """A complex value with the properties it lacks filled in as Graph would send them."""
    if isinstance(value, list):
        return [complete(item, type_name) for item in value]
    if not isinstance(value, dict):
        return value
    actual = str(value.get("@odata.type") or type_name).lstrip("#")
    result = dict(value)
    for name, default in defaults(actual).items():
        if name not in result:
            result[name] = fresh(default)
    for name, (inner, _) in _complex_properties(actual).items():
        if isinstance(result.get(name), dict | list):
            result[name] = complete(result[name], inner)
    return result


def complex_properties(odata_type: str) -> dict[str, tuple[str, bool]]:
    """Public view of :func:`_complex_properties`."""
    return _complex_properties(odata_type.lstrip("#"))


def fresh(value: Any) -> Any:
    """A copy of a default that a caller may change without changing the template."""
    if isinstance(value, dict):
        return {k: fresh(v) for k, v in value.items()}
    if isinstance(value, list):
        return [fresh(v) for v in value]
    return value


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
