"""Checks every write body goes through, and the errors Graph answers when one fails.

Messages and codes follow what the service sends (sources in ``docs/emulator-writes.md``):
read-only properties, missing required ones, unknown names, unique-value conflicts and
password complexity.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Iterable
from typing import Any

from graph_emulator.model import schema
from graph_emulator.model.kinds import KINDS
from graph_emulator.protocol import GraphError

BIND_SUFFIX = "@odata.bind"

READ_ONLY: dict[str, frozenset[str]] = {
    # graph-facts.md sections 5.3-5.7 (msgraph-sdk model docstrings and resource pages).
    "users": frozenset({
        "id", "createdDateTime", "creationType", "deletedDateTime", "imAddresses",
        "isManagementRestricted", "legalAgeGroupClassification", "onPremisesDistinguishedName",
        "onPremisesDomainName", "onPremisesLastSyncDateTime", "onPremisesSamAccountName",
        "onPremisesSecurityIdentifier", "onPremisesSyncEnabled", "onPremisesUserPrincipalName",
        "proxyAddresses", "securityIdentifier", "signInSessionsValidFromDateTime",
        "assignedPlans", "provisionedPlans", "licenseAssignmentStates", "signInActivity",
        "assignedLicenses",
    }),
    "groups": frozenset({
        "id", "createdDateTime", "deletedDateTime", "expirationDateTime", "renewedDateTime",
        "mail", "proxyAddresses", "securityIdentifier", "onPremisesDomainName",
        "onPremisesLastSyncDateTime", "onPremisesNetBiosName", "onPremisesProvisioningErrors",
        "onPremisesSamAccountName", "onPremisesSecurityIdentifier", "onPremisesSyncEnabled",
        "assignedLicenses", "licenseProcessingState", "isManagementRestricted", "uniqueName",
    }),
    "applications": frozenset({
        "id", "appId", "applicationTemplateId", "createdByAppId", "createdDateTime",
        "publisherDomain", "deletedDateTime", "passwordCredentials",
    }),
    "servicePrincipals": frozenset({
        "id", "applicationTemplateId", "createdByAppId", "signInAudience",
        "resourceSpecificApplicationPermissions", "deletedDateTime", "appOwnerOrganizationId",
        "appDisplayName", "passwordCredentials",
    }),
    "conditionalAccessPolicies": frozenset({
        "id", "createdDateTime", "modifiedDateTime", "deletedDateTime",
    }),
    "namedLocations": frozenset({"id", "createdDateTime", "modifiedDateTime", "deletedDateTime"}),
    "roleDefinitions": frozenset({"id", "isBuiltIn"}),
    "roleAssignments": frozenset({"id"}),
    "oauth2PermissionGrants": frozenset({"id"}),
    "appRoleAssignments": frozenset({
        "id", "createdDateTime", "deletedDateTime", "principalDisplayName", "principalType",
        "resourceDisplayName",
    }),
    "groupSettings": frozenset({"id"}),
    "authorizationPolicy": frozenset({"id", "deletedDateTime"}),
}
"""Properties a create or update may not carry, per kind (``id`` at least for the others)."""

EXTRA_TYPES: dict[str, tuple[str, ...]] = {
    "namedLocations": ("microsoft.graph.ipNamedLocation", "microsoft.graph.countryNamedLocation"),
}


def read_only(name: str) -> GraphError:
    """Graph's 400 for a property the caller may not set."""
    return GraphError(400, "Request_BadRequest",
                      f"Property '{name}' is read-only and cannot be set.")


def required(name: str) -> GraphError:
    """Graph's 400 for a required property that is absent or empty."""
    return GraphError(400, "Request_BadRequest",
                      f"Property {name} value is required but is empty or missing.")


def invalid_value(name: str, kind: str) -> GraphError:
    """Graph's 400 for a value the directory refuses."""
    return GraphError(400, "Request_BadRequest",
                      f"Invalid value specified for property '{name}' of resource "
                      f"'{schema.type_name(kind)}'.",
                      details=[{"code": "InvalidValue", "target": name}])


def conflict(name: str) -> GraphError:
    """Graph's 400 when a unique value is already taken by another object."""
    return GraphError(400, "Request_BadRequest",
                      f"Another object with the same value for property {name} already exists.",
                      details=[{"code": "ObjectConflict", "target": name}])


def new_id() -> str:
    """A new directory object id."""
    return str(uuid.uuid4())


def new_opaque_id() -> str:
    """A new id in the 43-character URL-safe form of app role and role assignments."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def split_binds(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The plain properties of a body, and its ``nav@odata.bind`` lists by navigation."""
    plain: dict[str, Any] = {}
    binds: dict[str, list[str]] = {}
    for key, value in body.items():
        if key.endswith(BIND_SUFFIX):
            urls = value if isinstance(value, list) else [value]
            if not all(isinstance(url, str) for url in urls):
                raise GraphError(400, "BadRequest",
                                 f"The value of '{key}' must be a URL or a list of URLs.")
            binds[key.removesuffix(BIND_SUFFIX)] = list(urls)
        else:
            plain[key] = value
    return plain, binds


def check_properties(kind: str, body: dict[str, Any], *, extra_read_only: Iterable[str] = (),
                     odata_type: str | None = None) -> None:
    """Refuse unknown and read-only property names in a create or update body."""
    known = schema.property_names(odata_type or KINDS[kind].odata_type)
    for extra in EXTRA_TYPES.get(kind, ()):
        known |= schema.property_names(extra)
    blocked = READ_ONLY.get(kind, frozenset({"id"})) | frozenset(extra_read_only)
    for name in body:
        if name.startswith("@odata."):
            continue
        if name not in known:
            raise GraphError(400, "Request_BadRequest", f"Invalid property '{name}'.")
        if name in blocked:
            raise read_only(name)


def check_required(body: dict[str, Any], names: Iterable[str]) -> None:
    """Refuse a create body that lacks one of ``names`` (null and empty strings count)."""
    for name in names:
        value = body.get(name)
        if value is None or value == "":
            raise required(name)


def check_password(password: Any) -> None:
    """Entra's complexity rule: 8-256 characters from at least three of four classes."""
    text = password if isinstance(password, str) else ""
    classes = sum((
        any(c.islower() for c in text),
        any(c.isupper() for c in text),
        any(c.isdigit() for c in text),
        any(not c.isalnum() for c in text),
    ))
    if not 8 <= len(text) <= 256 or classes < 3:
        raise GraphError(400, "Request_BadRequest",
                         "The specified password does not comply with password complexity "
                         "requirements. Please provide a different password.")


def require_bool(body: dict[str, Any], name: str, kind: str) -> None:
    """Refuse a non-boolean value for a boolean property."""
    if name in body and not isinstance(body[name], bool):
        raise invalid_value(name, kind)
