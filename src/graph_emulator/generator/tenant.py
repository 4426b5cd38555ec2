"""Tenant-wide objects: organization, domains, subscribed SKUs, the authorization policy
and the Microsoft 365 group settings."""

from __future__ import annotations

from typing import Any

from graph_emulator.generator import wellknown as wk
from graph_emulator.generator.ids import DAY, GENERATED_AT, TENANT_BORN, iso
from graph_emulator.generator.names import OFFICES
from graph_emulator.generator.world import World

_MAIL_SERVICES = ["Email", "OfficeCommunicationsOnline"]


def emit_organization(world: World) -> None:
    """The organization object (its id is the tenant id) and the tenant's domains."""
    hq = OFFICES[0]
    plans = {plan.id: plan for sku in wk.SKUS for plan in sku.plans}
    world.out.add("organization", {
        "id": world.tenant_id, "deletedDateTime": None,
        "assignedPlans": [
            {"assignedDateTime": iso(TENANT_BORN + DAY), "capabilityStatus": "Enabled",
             "service": plan.service, "servicePlanId": plan.id} for plan in plans.values()],
        "businessPhones": [f"{hq.phone} 0100"], "city": hq.city, "country": hq.country,
        "countryLetterCode": hq.code, "createdDateTime": iso(TENANT_BORN),
        "defaultUsageLocation": None, "displayName": world.display_name,
        "marketingNotificationEmails": [], "mobileDeviceManagementAuthority": "intune",
        "onPremisesLastSyncDateTime": iso(GENERATED_AT - 1200) if world.hybrid else None,
        "onPremisesSyncEnabled": True if world.hybrid else None,
        "partnerTenantType": None, "postalCode": hq.postal_code, "preferredLanguage": "en",
        "privacyProfile": {"contactEmail": f"privacy@{world.default_domain}",
                           "statementUrl": f"https://www.{world.default_domain}/privacy"},
        "provisionedPlans": [], "securityComplianceNotificationMails": [],
        "securityComplianceNotificationPhones": [], "state": hq.state, "street": hq.street,
        "technicalNotificationMails": [f"admin@{world.initial_domain}"], "tenantType": "AAD",
        "verifiedDomains": [
            {"capabilities": "Email, OfficeCommunicationsOnline", "isDefault": False,
             "isInitial": True, "name": world.initial_domain, "type": "Managed"},
            {"capabilities": "Email, OfficeCommunicationsOnline, Intune", "isDefault": True,
             "isInitial": False, "name": world.default_domain, "type": "Managed"},
        ],
    })
    for domain in _domains(world):
        world.out.add("domains", domain)


def _domains(world: World) -> list[dict[str, Any]]:
    def domain(name: str, *, default: bool, initial: bool, verified: bool,
               services: list[str]) -> dict[str, Any]:
        return {
            "id": name, "authenticationType": "Managed", "availabilityStatus": None,
            "isAdminManaged": True, "isDefault": default, "isInitial": initial, "isRoot": True,
            "isVerified": verified, "passwordNotificationWindowInDays": 14 if verified else None,
            "passwordValidityPeriodInDays": 2147483647 if verified else None,
            "state": None, "supportedServices": services,
        }

    return [
        domain(world.initial_domain, default=False, initial=True, verified=True,
               services=list(_MAIL_SERVICES)),
        domain(world.default_domain, default=True, initial=False, verified=True,
               services=[*_MAIL_SERVICES, "Intune"]),
        domain(world.unverified_domain, default=False, initial=False, verified=False,
               services=[]),
    ]


def emit_subscribed_skus(world: World) -> None:
    """One subscribedSku per licence, with units consumed by the generated users."""
    rand = world.rand("skus")
    for sku in wk.SKUS:
        consumed = world.licences.get(sku.id, 0)
        purchased = max(25, -(-int(consumed * 1.1) // 25) * 25)
        world.out.add("subscribedSkus", {
            "id": f"{world.tenant_id}_{sku.id}", "accountId": world.tenant_id,
            "accountName": world.display_name, "appliesTo": "User",
            "capabilityStatus": "Enabled", "consumedUnits": consumed,
            "prepaidUnits": {"enabled": purchased, "lockedOut": 0, "suspended": 0, "warning": 0},
            "servicePlans": [
                {"appliesTo": "User", "provisioningStatus": "Success",
                 "servicePlanId": plan.id, "servicePlanName": plan.name} for plan in sku.plans],
            "skuId": sku.id, "skuPartNumber": sku.part_number,
            "subscriptionIds": [rand.uuid()],
        })


def emit_policies(world: World) -> None:
    """The authorization policy and the 'Group.Unified' setting (after groups exist)."""
    world.out.add("authorizationPolicy", {
        "id": "authorizationPolicy", "deletedDateTime": None,
        "allowInvitesFrom": "adminsAndGuestInviters",
        "allowedToSignUpEmailBasedSubscriptions": True, "allowedToUseSSPR": True,
        "allowEmailVerifiedUsersToJoinOrganization": False,
        "allowUserConsentForRiskyApps": None, "blockMsolPowerShell": True,
        "displayName": "Authorization Policy",
        "description": "Used to manage authorization related settings across the company.",
        "guestUserRoleId": wk.GUEST_USER_ROLE,
        "defaultUserRolePermissions": {
            "allowedToCreateApps": False, "allowedToCreateSecurityGroups": False,
            "allowedToCreateTenants": False, "allowedToReadBitlockerKeysForOwnedDevice": True,
            "allowedToReadOtherUsers": True,
            "permissionGrantPoliciesAssigned": [
                "ManagePermissionGrantsForSelf.microsoft-user-default-low"],
        },
    })
    creators = world.groups.creators
    values = {
        "EnableMIPLabels": "false", "CustomBlockedWordsList": "",
        "EnableMSStandardBlockedWords": "true", "ClassificationDescriptions": "",
        "DefaultClassification": "", "PrefixSuffixNamingRequirement": "",
        "AllowGuestsToBeGroupOwner": "false", "AllowGuestsToAccessGroups": "true",
        "GuestUsageGuidelinesUrl": "", "GroupCreationAllowedGroupId":
            world.groups.ids[creators] if creators is not None else "",
        "AllowToAddGuests": "true",
        "UsageGuidelinesUrl": f"https://intranet.{world.default_domain}/groups",
        "ClassificationList": "",
        "EnableGroupCreation": "false" if creators is not None else "true",
    }
    world.out.add("groupSettings", {
        "id": world.rand("settings").uuid(), "displayName": "Group.Unified",
        "templateId": wk.GROUP_UNIFIED_TEMPLATE,
        "values": [{"name": name, "value": value} for name, value in values.items()],
    })
