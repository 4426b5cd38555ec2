"""Request bodies for documented create examples, which the examples file does not record.

Each body follows the request of the same example on its Graph documentation page,
with names made unique to this run. The example's response is then compared with ours,
and the created object is deleted with the documented DELETE of the same collection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class DocumentedCreate:
    """A documented POST (by example index) and the DELETE example for what it made."""

    create: int
    delete: int
    path: str
    body: dict[str, Any]


CREATES = (
    DocumentedCreate(3222, 3197, "/groups", {
        "description": "Self help community for library", "displayName": "Library Assist",
        "groupTypes": ["Unified"], "mailEnabled": True, "mailNickname": "library-fidelity",
        "securityEnabled": False}),
    DocumentedCreate(3144, 3080, "/applications", {"displayName": "Display name"}),
    DocumentedCreate(2427, 2303, "/directory/administrativeUnits", {
        "displayName": "Seattle District Technical Schools",
        "description": "Seattle district technical schools administration",
        "membershipType": "Dynamic", "membershipRule": "(user.country -eq \"United States\")",
        "membershipRuleProcessingState": "On", "visibility": "HiddenMembership"}),
    DocumentedCreate(1677, 1540, "/identity/conditionalAccess/namedLocations", {
        "@odata.type": "#microsoft.graph.ipNamedLocation",
        "displayName": "Untrusted IP named location", "isTrusted": False,
        "ipRanges": [
            {"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "12.34.221.11/22"},
            {"@odata.type": "#microsoft.graph.iPv6CidrRange",
             "cidrAddress": "2001:0:9d38:90d6:0:0:0:0/63"}]}),
    DocumentedCreate(2052, 1929, "/identity/conditionalAccess/policies", {
        "displayName": "Access to EXO requires MFA", "state": "enabled",
        "conditions": {
            "clientAppTypes": ["mobileAppsAndDesktopClients", "browser"],
            "applications": {"includeApplications": ["00000002-0000-0ff1-ce00-000000000000"]},
            "users": {"includeUsers": ["All"]},
            "locations": {"includeLocations": ["All"], "excludeLocations": ["AllTrusted"]}},
        "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}}),
)
