"""Named locations and Conditional Access policies that reference the generated users,
groups, roles, applications and locations by id."""

from __future__ import annotations

from typing import Any

from graph_emulator.generator import wellknown as wk
from graph_emulator.generator.ids import DAY, GENERATED_AT, TENANT_BORN, iso
from graph_emulator.generator.names import OFFICES
from graph_emulator.generator.world import World

BLOCKED_COUNTRIES = ["KP", "IR", "SY", "CU"]


def emit_named_locations(world: World) -> dict[str, str]:
    """Emit the named locations; returns their ids by role (corporate, vpn, allowed, blocked)."""
    rand = world.rand("locations")
    ids: dict[str, str] = {}

    def times() -> dict[str, str]:
        created = rand.moment(TENANT_BORN + 100 * DAY, GENERATED_AT - 60 * DAY)
        return {"createdDateTime": iso(created),
                "modifiedDateTime": iso(rand.moment(created, GENERATED_AT - DAY))}

    def ip(role: str, name: str, trusted: bool, ranges: list[str]) -> None:
        ids[role] = rand.uuid()
        world.out.add("namedLocations", {
            "@odata.type": "#microsoft.graph.ipNamedLocation", "id": ids[role],
            "displayName": name, **times(), "isTrusted": trusted,
            "ipRanges": [{"@odata.type": "#microsoft.graph.iPv6CidrRange" if ":" in cidr
                          else "#microsoft.graph.iPv4CidrRange", "cidrAddress": cidr}
                         for cidr in ranges]})

    def countries(role: str, name: str, codes: list[str], unknown: bool) -> None:
        ids[role] = rand.uuid()
        world.out.add("namedLocations", {
            "@odata.type": "#microsoft.graph.countryNamedLocation", "id": ids[role],
            "displayName": name, **times(), "countriesAndRegions": codes,
            "countryLookupMethod": "clientIpAddress",
            "includeUnknownCountriesAndRegions": unknown})

    ip("corporate", "Corporate network", True, ["203.0.113.0/24", "198.51.100.0/26"])
    ip("vpn", "Branch office VPN", False, ["192.0.2.0/24", "2001:db8:1000::/48"])
    countries("allowed", "Countries with offices",
              [office.code for office in OFFICES[: world.people.office_count]], False)
    countries("blocked", "Blocked countries", list(BLOCKED_COUNTRIES), True)
    return ids


def emit_conditional_access(world: World, locations: dict[str, str]) -> str:
    """Emit the Conditional Access policies; returns the id of the admin MFA policy."""
    rand = world.rand("conditional-access")
    people, groups, apps = world.people, world.groups, world.apps
    excluded_user = people.break_glass if people.break_glass is not None else people.admin
    exclude_users = [people.ids[excluded_user]]
    exclude_groups = [groups.ids[groups.ca_exclusions]] if groups.ca_exclusions is not None \
        else []
    office_apps = [wk.EXCHANGE_APP_ID, wk.SHAREPOINT_APP_ID, wk.TEAMS_APP_ID]
    line_of_business = apps.custom_app_ids[:3]
    pilot = [groups.ids[i] for i in groups.security[:2]]
    specs: list[tuple[str, str, dict[str, Any], dict[str, Any] | None, dict[str, Any] | None]] = [
        ("CA001: Require multifactor authentication for admins", "enabled",
         _conditions(users=_users(roles=list(wk.ADMIN_ROLES_OF_CA_TEMPLATE),
                                  exclude_users=exclude_users, exclude_groups=exclude_groups)),
         _grant("OR", ["mfa"]), None),
        ("CA002: Require multifactor authentication for all users",
         "enabledForReportingButNotEnforced",
         _conditions(users=_users(include_users=["All"], exclude_users=exclude_users,
                                  exclude_groups=exclude_groups)), _grant("OR", ["mfa"]), None),
        ("CA003: Block legacy authentication", "enabled",
         _conditions(users=_users(include_users=["All"], exclude_users=exclude_users),
                     client_apps=["exchangeActiveSync", "other"]), _grant("OR", ["block"]), None),
        ("CA004: Block access from blocked countries", "enabled",
         _conditions(users=_users(include_users=["All"], exclude_users=exclude_users,
                                  exclude_groups=exclude_groups),
                     locations={"includeLocations": [locations["blocked"]],
                                "excludeLocations": []}), _grant("OR", ["block"]), None),
        ("CA005: Require compliant device for Office 365 outside the corporate network",
         "disabled",
         _conditions(users=_users(include_users=["All"], exclude_users=exclude_users,
                                  exclude_roles=[wk.DIRECTORY_READERS]),
                     apps=office_apps,
                     locations={"includeLocations": ["All"],
                                "excludeLocations": [locations["corporate"], locations["vpn"]]},
                     platforms={"includePlatforms": ["windows", "macOS"], "excludePlatforms": []}),
         _grant("OR", ["compliantDevice", "domainJoinedDevice"]), None),
        ("CA006: Require multifactor authentication for guests", "enabled",
         _conditions(users=_users(include_users=["GuestsOrExternalUsers"],
                                  exclude_users=exclude_users)), _grant("OR", ["mfa"]), None),
        ("CA007: Require MFA for line-of-business apps", "disabled",
         _conditions(users=_users(include_groups=pilot, exclude_groups=exclude_groups),
                     apps=line_of_business or ["All"],
                     exclude_apps=[wk.AZURE_PORTAL_APP_ID] if line_of_business else []),
         _grant("OR", ["mfa"]), None),
        ("CA008: Sign-in frequency for administrators", "enabledForReportingButNotEnforced",
         _conditions(users=_users(roles=[wk.GLOBAL_ADMIN, wk.SECURITY_ADMIN],
                                  exclude_users=exclude_users)), None, _session()),
        ("CA009: Require password change for high-risk users", "enabled",
         _conditions(users=_users(include_users=["All"], exclude_users=exclude_users),
                     user_risk=["high"]), _grant("AND", ["mfa", "passwordChange"]), None),
    ]
    first = ""
    for name, state, conditions, grant, session in specs:
        created = rand.moment(TENANT_BORN + 200 * DAY, GENERATED_AT - 90 * DAY)
        policy_id = rand.uuid()
        first = first or policy_id
        world.out.add("conditionalAccessPolicies", {
            "id": policy_id, "templateId": None, "displayName": name,
            "createdDateTime": iso(created),
            "modifiedDateTime": iso(rand.moment(created, GENERATED_AT - DAY)),
            "state": state, "conditions": conditions, "grantControls": grant,
            "sessionControls": session})
    return first


def _users(*, include_users: list[str] | None = None, exclude_users: list[str] | None = None,
           include_groups: list[str] | None = None, exclude_groups: list[str] | None = None,
           roles: list[str] | None = None, exclude_roles: list[str] | None = None,
           ) -> dict[str, Any]:
    return {"includeUsers": include_users or [], "excludeUsers": exclude_users or [],
            "includeGroups": include_groups or [], "excludeGroups": exclude_groups or [],
            "includeRoles": roles or [], "excludeRoles": exclude_roles or [],
            "includeGuestsOrExternalUsers": None, "excludeGuestsOrExternalUsers": None}


def _conditions(*, users: dict[str, Any], apps: list[str] | None = None,
                exclude_apps: list[str] | None = None, client_apps: list[str] | None = None,
                locations: dict[str, Any] | None = None, platforms: dict[str, Any] | None = None,
                user_risk: list[str] | None = None) -> dict[str, Any]:
    return {
        "userRiskLevels": user_risk or [], "signInRiskLevels": [],
        "clientAppTypes": client_apps or ["all"], "servicePrincipalRiskLevels": [],
        "insiderRiskLevels": None, "platforms": platforms, "locations": locations,
        "devices": None, "clientApplications": None,
        "applications": {"includeApplications": apps or ["All"],
                         "excludeApplications": exclude_apps or [], "includeUserActions": [],
                         "includeAuthenticationContextClassReferences": [],
                         "applicationFilter": None},
        "users": users,
    }


def _grant(operator: str, controls: list[str]) -> dict[str, Any]:
    return {"operator": operator, "builtInControls": controls,
            "customAuthenticationFactors": [], "termsOfUse": []}


def _session() -> dict[str, Any]:
    return {"disableResilienceDefaults": None, "applicationEnforcedRestrictions": None,
            "cloudAppSecurity": None,
            "persistentBrowser": {"isEnabled": True, "mode": "never"},
            "secureSignInSession": None,
            "signInFrequency": {"authenticationType": "primaryAndSecondaryAuthentication",
                                "frequencyInterval": "timeBased", "isEnabled": True,
                                "type": "hours", "value": 4}}
