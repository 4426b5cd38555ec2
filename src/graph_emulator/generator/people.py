"""Users: an admin, an emergency-access account, the staff in departments under a CEO
(synced from on-premises in hybrid tenants, some disabled), guests, and managers."""

from __future__ import annotations

import base64
from array import array
from itertools import accumulate
from typing import Any

from graph_emulator.generator import wellknown as wk
from graph_emulator.generator.ids import DAY, GENERATED_AT, TENANT_BORN, Rand, cloud_sid, iso
from graph_emulator.generator.names import (
    DEPARTMENTS,
    EXECUTIVE,
    FIRST_NAMES,
    GUEST_COMPANIES,
    GUEST_DOMAINS,
    LAST_NAMES,
    OFFICES,
    Department,
)
from graph_emulator.generator.world import DISABLED, GUEST, NO_VALUE, SYNCED, People, World

FANOUT = 6
"""Direct reports per manager in each department's hierarchy."""
GUEST_SHARE = 0.08
SYNCED_SHARE = 0.6
DISABLED_SHARE = 0.03
EXECUTIVE_INDEX = 100
_EXTENSION_NAMES = tuple(f"extensionAttribute{n}" for n in range(1, 16))


def plan_people(world: World) -> None:
    """Decide who exists (roles, departments, offices) before any user is emitted."""
    people = world.people
    total = world.spec.users
    people.break_glass = 1 if total >= 20 else None
    first_person = 2 if people.break_glass else 1
    guests = round(total * GUEST_SHARE) if total >= 10 else 0
    people.staff = range(first_person, total - guests)
    people.guests = range(total - guests, total)
    people.ceo = people.staff.start if people.staff else None
    people.office_count = max(1, min(len(OFFICES), 1 + total // 2000))
    rand = world.rand("people-plan")
    count = len(people.staff)
    department_count = max(1, min(len(DEPARTMENTS), (count - 1) // 5))
    departments = rand.weighted(max(count - 1, 0), list(accumulate(
        d.weight for d in DEPARTMENTS[:department_count])))
    offices = rand.weighted(count, list(accumulate(
        o.weight for o in OFFICES[:people.office_count])))
    people.department = array("b", [NO_VALUE] * total)
    people.office = array("b", [NO_VALUE] * total)
    people.departments = [array("i") for _ in range(department_count)]
    for position, index in enumerate(people.staff):
        people.office[index] = offices[position]
        if index == people.ceo:
            people.department[index] = EXECUTIVE_INDEX
            continue
        department = departments[position - 1]
        people.department[index] = department
        people.departments[department].append(index)


def emit_users(world: World) -> None:
    """Emit every user, then each staff member's manager link."""
    plan_people(world)
    people = world.people
    rand = world.rand("people")
    names = Nicknames()
    domain_sid = "S-1-5-21-{}-{}-{}".format(*(rand.between(10**9, 4 * 10**9) for _ in range(3)))
    total = world.spec.users
    people.first = array("H", [0] * total)
    people.last = array("H", [0] * total)
    people.flags = bytearray(total)
    people.ids = [rand.uuid() for _ in range(total)]
    world.out.add("users", _admin(world, rand))
    if people.break_glass is not None:
        world.out.add("users", _break_glass(world, rand))
    positions = {index: position for dept in people.departments
                 for position, index in enumerate(dept)}
    for index in people.staff:
        world.out.add("users", _staff(world, rand, names, index,
                                      position=positions.get(index, 0), domain_sid=domain_sid))
    for index in people.guests:
        world.out.add("users", _guest(world, rand, names, index))
    _emit_managers(world)


def _emit_managers(world: World) -> None:
    people = world.people
    if people.ceo is None:
        return
    ceo_id = people.ids[people.ceo]
    for members in people.departments:
        for position, index in enumerate(members):
            manager = ceo_id if position == 0 else people.ids[members[(position - 1) // FANOUT]]
            world.out.link("manager", people.ids[index], manager)


class Nicknames:
    """Unique mail nicknames: ``first.last``, then ``first.last2`` and so on."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def take(self, base: str) -> str:
        count = self.seen.get(base, 0) + 1
        self.seen[base] = count
        return base if count == 1 else f"{base}{count}"


def _base(world: World, index: int, created: float) -> dict[str, Any]:
    """Properties every user has, with the values of a cloud-only account."""
    object_id = world.people.ids[index]
    return {
        "id": object_id, "deletedDateTime": None, "accountEnabled": True, "ageGroup": None,
        "businessPhones": [], "city": None, "companyName": None,
        "consentProvidedForMinor": None, "country": None, "createdDateTime": iso(created),
        "creationType": None, "department": None, "employeeHireDate": None,
        "employeeId": None, "employeeType": None, "externalUserState": None,
        "externalUserStateChangeDateTime": None, "faxNumber": None, "imAddresses": [],
        "isResourceAccount": None, "jobTitle": None,
        "legalAgeGroupClassification": None, "mobilePhone": None, "officeLocation": None,
        "onPremisesDistinguishedName": None, "onPremisesDomainName": None,
        "onPremisesExtensionAttributes": dict.fromkeys(_EXTENSION_NAMES),
        "onPremisesImmutableId": None, "onPremisesLastSyncDateTime": None,
        "onPremisesProvisioningErrors": [], "onPremisesSamAccountName": None,
        "onPremisesSecurityIdentifier": None, "onPremisesSyncEnabled": None,
        "onPremisesUserPrincipalName": None, "otherMails": [], "passwordPolicies": None,
        "postalCode": None, "preferredDataLocation": None, "preferredLanguage": None,
        "proxyAddresses": [], "securityIdentifier": cloud_sid(object_id),
        "showInAddressList": None, "state": None, "streetAddress": None,
        "usageLocation": None, "userType": "Member", "assignedLicenses": [],
        "assignedPlans": [],
    }


def _admin(world: World, rand: Rand) -> dict[str, Any]:
    people = world.people
    created = TENANT_BORN + 600
    upn = f"admin@{world.initial_domain}"
    people.names[people.admin] = ("Tenant Administrator", upn)
    user = _base(world, people.admin, created)
    user.update({
        "displayName": "Tenant Administrator", "givenName": "Tenant", "surname": "Administrator",
        "mailNickname": "admin", "userPrincipalName": upn, "mail": upn,
        "jobTitle": "Global Administrator", "usageLocation": OFFICES[0].code,
        "preferredLanguage": "en-US", "proxyAddresses": [f"SMTP:{upn}"],
        "lastPasswordChangeDateTime": iso(rand.moment(GENERATED_AT - 90 * DAY, GENERATED_AT)),
        "signInSessionsValidFromDateTime": iso(created),
    })
    _license(world, user, (wk.M365_E5,), created)
    return user


def _break_glass(world: World, rand: Rand) -> dict[str, Any]:
    people = world.people
    index = people.break_glass
    assert index is not None
    created = TENANT_BORN + 1200
    upn = f"breakglass01@{world.initial_domain}"
    people.names[index] = ("Emergency Access Account 01", upn)
    user = _base(world, index, created)
    user.update({
        "displayName": "Emergency Access Account 01", "givenName": None, "surname": None,
        "mailNickname": "breakglass01", "userPrincipalName": upn, "mail": None,
        "passwordPolicies": "DisablePasswordExpiration",
        "lastPasswordChangeDateTime": iso(created + rand.moment(0, 30 * DAY)),
        "signInSessionsValidFromDateTime": iso(created),
    })
    return user


def _staff(world: World, rand: Rand, names: Nicknames, index: int, *, position: int,
           domain_sid: str) -> dict[str, Any]:
    """A member of staff; synced from on-premises when the tenant is hybrid."""
    people = world.people
    first, last = rand.between(0, len(FIRST_NAMES) - 1), rand.between(0, len(LAST_NAMES) - 1)
    people.first[index], people.last[index] = first, last
    given, surname = FIRST_NAMES[first], LAST_NAMES[last]
    display = f"{given} {surname}"
    nick = names.take(f"{given}.{surname}".lower())
    upn = f"{nick}@{world.default_domain}"
    synced = world.hybrid and rand.chance(SYNCED_SHARE)
    disabled = position > 0 and index != people.ceo and rand.chance(DISABLED_SHARE)
    people.flags[index] = (SYNCED if synced else 0) | (DISABLED if disabled else 0)
    created = (rand.moment(TENANT_BORN, TENANT_BORN + 400 * DAY) if synced
               else rand.moment(TENANT_BORN + 30 * DAY, GENERATED_AT - 2 * DAY))
    office = OFFICES[people.office[index]]
    department, title = _position(world, index, position)
    if index == people.ceo or position == 0:
        people.names[index] = (display, upn)
    phone = f"{office.phone} {rand.between(1000, 9999)}"
    user = _base(world, index, created)
    user.update({
        "accountEnabled": not disabled, "businessPhones": [phone], "city": office.city,
        "companyName": world.display_name, "country": office.country,
        "department": department, "displayName": display,
        "employeeHireDate": iso(created - rand.moment(0, 20 * DAY)),
        "employeeId": f"{100000 + index}", "employeeType": "Employee", "givenName": given,
        "imAddresses": [upn], "jobTitle": title, "mail": upn, "mailNickname": nick,
        "mobilePhone": f"{office.phone} {rand.between(1000, 9999)}" if rand.chance(0.6) else None,
        "officeLocation": f"{office.city} {rand.between(1, 9)}/{rand.between(100, 499)}",
        "postalCode": office.postal_code, "preferredLanguage": office.language,
        "proxyAddresses": [f"SMTP:{upn}", f"smtp:{nick}@{world.initial_domain}"],
        "state": office.state, "streetAddress": office.street, "surname": surname,
        "usageLocation": office.code, "userPrincipalName": upn,
        "lastPasswordChangeDateTime": iso(rand.moment(created, GENERATED_AT)),
        "signInSessionsValidFromDateTime": iso(created),
    })
    if synced:
        _synced(user, rand, index, domain_sid, department)
    bundle = () if disabled else wk.LICENCE_BUNDLES[rand.weighted(1, _LICENCE_CUMULATIVE)[0]]
    _license(world, user, bundle, created)
    return user


_LICENCE_CUMULATIVE = list(accumulate(wk.LICENCE_WEIGHTS))


def _position(world: World, index: int, position: int) -> tuple[str, str]:
    """Department name and job title from the place in the department's hierarchy."""
    people = world.people
    if index == people.ceo:
        return EXECUTIVE, "Chief Executive Officer"
    department: Department = DEPARTMENTS[people.department[index]]
    size = len(people.departments[people.department[index]])
    if position == 0:
        return department.name, f"Head of {department.name}"
    if position * FANOUT + 1 < size:
        return department.name, f"{department.name} Manager"
    titles = department.titles
    return department.name, titles[(index * 7 + position) % len(titles)]


def _synced(user: dict[str, Any], rand: Rand, index: int, domain_sid: str,
            department: str) -> None:
    """On-premises attributes of a user synchronised by Entra Connect."""
    sam = user["mailNickname"].replace(".", "")[:20]
    user.update({
        "onPremisesDistinguishedName":
            f"CN={user['displayName']},OU={department},OU=Staff,DC=corp,DC=contoso,DC=com",
        "onPremisesDomainName": "corp.contoso.com",
        "onPremisesImmutableId": base64.b64encode(rand.raw(16)).decode("ascii"),
        "onPremisesLastSyncDateTime": iso(GENERATED_AT - rand.moment(0, 1800)),
        "onPremisesSamAccountName": sam,
        "onPremisesSecurityIdentifier": f"{domain_sid}-{1100 + index}",
        "onPremisesSyncEnabled": True,
        "onPremisesUserPrincipalName": user["userPrincipalName"],
        "passwordPolicies": "DisablePasswordExpiration",
    })
    user["onPremisesExtensionAttributes"]["extensionAttribute1"] = f"CC-{4000 + index % 97}"


def _guest(world: World, rand: Rand, names: Nicknames, index: int) -> dict[str, Any]:
    """A B2B guest invited from a partner organisation or a consumer mailbox."""
    people = world.people
    first, last = rand.between(0, len(FIRST_NAMES) - 1), rand.between(0, len(LAST_NAMES) - 1)
    people.first[index], people.last[index] = first, last
    people.flags[index] = GUEST
    given, surname = FIRST_NAMES[first], LAST_NAMES[last]
    domain = rand.pick(GUEST_DOMAINS)
    local = names.take(f"{domain}/{given}.{surname}".lower()).split("/")[1]
    mail = f"{local}@{domain}"
    upn = f"{mail.replace('@', '_')}#EXT#@{world.initial_domain}"
    created = rand.moment(TENANT_BORN + 200 * DAY, GENERATED_AT - DAY)
    accepted = rand.chance(0.85)
    user = _base(world, index, created)
    user.update({
        "companyName": GUEST_COMPANIES.get(domain), "creationType": "Invitation",
        "displayName": f"{given} {surname}", "givenName": given, "surname": surname,
        "externalUserState": "Accepted" if accepted else "PendingAcceptance",
        "externalUserStateChangeDateTime": iso(created + rand.moment(0, 3 * DAY)),
        "mail": mail, "mailNickname": f"{mail.replace('@', '_')}#EXT#", "otherMails": [mail],
        "proxyAddresses": [f"SMTP:{mail}"], "userPrincipalName": upn, "userType": "Guest",
        "lastPasswordChangeDateTime": iso(created),
        "signInSessionsValidFromDateTime": iso(created),
    })
    if world.people.guests.start == index:
        people.names[index] = (user["displayName"], upn)
    return user


def _license(world: World, user: dict[str, Any], bundle: tuple[wk.Sku, ...],
             created: float) -> None:
    plans: dict[str, wk.ServicePlan] = {}
    for sku in bundle:
        world.licences[sku.id] = world.licences.get(sku.id, 0) + 1
        plans.update((plan.id, plan) for plan in sku.plans)
    user["assignedLicenses"] = [{"disabledPlans": [], "skuId": sku.id} for sku in bundle]
    assigned = iso(created + 3600)
    user["assignedPlans"] = [
        {"assignedDateTime": assigned, "capabilityStatus": "Enabled", "service": plan.service,
         "servicePlanId": plan.id} for plan in plans.values()]
    if not bundle:
        user["proxyAddresses"] = []
        user["imAddresses"] = []


def display_name(people: People, index: int) -> str:
    """A user's display name, rebuilt from the compact index."""
    if index in people.names:
        return people.names[index][0]
    return f"{FIRST_NAMES[people.first[index]]} {LAST_NAMES[people.last[index]]}"
