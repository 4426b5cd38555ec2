"""Groups and their members and owners.

Special groups first (everyone, CA exclusions, group creators), then dynamic groups whose
members are exactly the users their rule matches, role-assignable groups, and the bulk:
Microsoft 365 groups, mail-enabled security groups and security groups (some synced from
on-premises, some nested). The bulk's sizes follow a heavy-tailed distribution scaled so
that all member links add up to about the spec's membership target.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from graph_emulator.generator.ids import DAY, GENERATED_AT, TENANT_BORN, Rand, cloud_sid, iso
from graph_emulator.generator.names import (
    DEPARTMENTS,
    GROUP_TOPICS,
    IT_DEPARTMENT,
    OFFICES,
    SECURITY_PURPOSES,
)
from graph_emulator.generator.people import Nicknames
from graph_emulator.generator.world import World

UNIFIED_SHARE = 0.35
MAIL_SECURITY_SHARE = 0.05
SYNCED_SHARE = 0.3
NESTING_CHANCE = 0.1
HOME_SHARE = 0.8
"""Share of a team group's members drawn from its home department."""
ROLE_ASSIGNABLE_NAMES = ("Helpdesk Admins", "Security Operators", "Application Admins",
                         "Identity Admins", "Exchange Admins", "Privileged Readers",
                         "Intune Admins", "License Admins", "Groups Admins", "Tier0 Admins")


@dataclass
class _Plan:
    """One group to emit."""

    name: str
    description: str
    kind: str
    """everyone, exclusions, creators, dynamic, role, unified, mailsecurity, security"""
    members: Sequence[int] = ()
    rule: str | None = None
    home: int = 0
    size: int = 0
    department: int | None = None
    """For a department's dynamic group: the department's index."""


def emit_groups(world: World) -> None:
    """Emit every group, each followed by its member and owner links."""
    rand = world.rand("groups")
    nicknames = Nicknames()
    plans = _fixed_plans(world)
    bulk = max(0, world.spec.group_count - len(plans))
    fixed_links = sum(len(plan.members) for plan in plans)
    budget = max(0, world.spec.membership_target - fixed_links)
    plans.extend(_bulk_plans(world, rand, bulk, budget))
    for plan in plans:
        _emit(world, rand, nicknames, plan)


def _fixed_plans(world: World) -> list[_Plan]:
    people = world.people
    total = world.spec.group_count
    plans: list[_Plan] = []
    if total >= 1:
        plans.append(_Plan("All Employees", "Every member of staff.", "everyone",
                           members=people.staff))
    if total >= 2:
        excluded = people.break_glass if people.break_glass is not None else people.admin
        plans.append(_Plan("CA-Exclusions", "Accounts excluded from Conditional Access "
                           "policies. Reviewed monthly.", "exclusions", members=[excluded]))
    if total >= 3:
        it = _it_staff(world)
        plans.append(_Plan("M365 Group Creators", "Members may create Microsoft 365 groups.",
                           "creators", members=list(it[:20]) or [people.admin]))
    dynamic = _dynamic_plans(world)[: max(0, (total - len(plans)) // 4)]
    plans.extend(dynamic)
    if total >= 10:
        it = _it_staff(world)
        for position in range(min(len(ROLE_ASSIGNABLE_NAMES), max(1, total // 200))):
            name = ROLE_ASSIGNABLE_NAMES[position]
            members = list(it[1 + position * 3: 4 + position * 3]) or [people.admin]
            plans.append(_Plan(f"RA-{name}", f"Role-assignable group: {name}.", "role",
                               members=members))
    return plans


def _it_staff(world: World) -> Sequence[int]:
    """The IT department (or the first department of a tenant too small to have one)."""
    departments = world.people.departments
    return departments[IT_DEPARTMENT] if len(departments) > IT_DEPARTMENT else departments[0]


def _dynamic_plans(world: World) -> list[_Plan]:
    people = world.people
    plans = []
    for index, members in enumerate(people.departments):
        if members:
            name = DEPARTMENTS[index].name
            plans.append(_Plan(f"Dept - {name}", f"Everyone in {name} (dynamic).", "dynamic",
                               members=members, rule=f'(user.department -eq "{name}")',
                               department=index))
    for office_index in range(1, people.office_count):
        office = OFFICES[office_index]
        located = [i for i in people.staff if people.office[i] == office_index]
        if located:
            plans.append(_Plan(f"Location - {office.country}", f"Staff in {office.country} "
                               "(dynamic).", "dynamic", members=located,
                               rule=f'(user.country -eq "{office.country}")'))
    if people.guests:
        plans.append(_Plan("All Guests", "Every guest user (dynamic).", "dynamic",
                           members=people.guests, rule='(user.userType -eq "Guest")'))
    return plans


def _bulk_plans(world: World, rand: Rand, count: int, budget: int) -> list[_Plan]:
    """Team groups with heavy-tailed sizes that add up to about ``budget`` links."""
    weights = [rand.rng.paretovariate(1.2) for _ in range(count)]
    sizes = _sizes(weights, budget, len(world.people.staff))
    departments = len(world.people.departments)
    plans = []
    for position, size in enumerate(sizes):
        home = rand.between(0, departments - 1)
        department = DEPARTMENTS[home].name
        draw = rand.rng.random()
        if draw < UNIFIED_SHARE:
            topic = GROUP_TOPICS[position % len(GROUP_TOPICS)]
            plans.append(_Plan(f"{department} {topic}", f"Team space for {topic} in "
                               f"{department}.", "unified", home=home, size=size))
        elif draw < UNIFIED_SHARE + MAIL_SECURITY_SHARE:
            plans.append(_Plan(f"{department} Announcements", f"Mail-enabled security group "
                               f"for {department} notices.", "mailsecurity", home=home,
                               size=size))
        else:
            purpose = SECURITY_PURPOSES[position % len(SECURITY_PURPOSES)]
            plans.append(_Plan(f"SG-{DEPARTMENTS[home].code}-{purpose}", f"{purpose} for "
                               f"{department}.", "security", home=home, size=size))
    return plans


def _sizes(weights: list[float], budget: int, cap: int) -> list[int]:
    """Sizes proportional to ``weights`` that sum to about ``budget``, none above ``cap``.

    Groups that hit the cap give their excess back to the others, a few rounds over.
    """
    sizes = [0] * len(weights)
    open_ = list(range(len(weights)))
    remaining = budget
    for _ in range(4):
        total = sum(weights[i] for i in open_)
        if not open_ or total <= 0 or remaining <= 0:
            break
        scale = remaining / total
        still_open = []
        for i in open_:
            size = max(1, round(weights[i] * scale))
            if size >= cap:
                sizes[i] = cap
                remaining -= cap
            else:
                still_open.append(i)
        if len(still_open) == len(open_):
            for i in open_:
                sizes[i] = max(1, round(weights[i] * scale))
            break
        open_ = still_open
    return sizes


def _emit(world: World, rand: Rand, nicknames: Nicknames, plan: _Plan) -> None:
    groups = world.groups
    index = len(groups.ids)
    group_id = rand.uuid()
    groups.ids.append(group_id)
    groups.names.append(plan.name)
    members: list[int] = (list(plan.members) if plan.members or plan.size == 0
                          else _draw(world, rand, plan))
    obj = _object(world, rand, nicknames, plan, group_id)
    world.out.add("groups", obj)
    _remember(world, plan, index)
    people = world.people
    for member in members:
        world.out.group_member(group_id, people.ids[member])
    if plan.kind == "security" and not obj["onPremisesSyncEnabled"] and groups.security \
            and rand.chance(NESTING_CHANCE):
        for child in rand.sample(groups.security, rand.between(1, 3)):
            world.out.group_member(group_id, groups.ids[child])
    if plan.kind == "security" and not obj["onPremisesSyncEnabled"]:
        groups.security.append(index)
    for owner in _owners(world, rand, plan, members):
        world.out.link("owners", group_id, people.ids[owner])


def _draw(world: World, rand: Rand, plan: _Plan) -> list[int]:
    people = world.people
    department = people.departments[plan.home]
    home = min(int(plan.size * HOME_SHARE), len(department))
    chosen = dict.fromkeys(rand.sample(department, home))
    for index in rand.sample(people.staff, plan.size - home + plan.size // 4 + 2):
        if len(chosen) >= plan.size:
            break
        chosen.setdefault(index)
    if plan.kind == "unified" and people.guests:
        chosen.update(dict.fromkeys(rand.sample(people.guests, plan.size // 20)))
    return list(chosen)


def _owners(world: World, rand: Rand, plan: _Plan, members: list[int]) -> list[int]:
    people = world.people
    if plan.kind in ("dynamic", "role") or not people.staff:
        return []
    if plan.kind in ("everyone", "exclusions", "creators"):
        return [people.admin]
    staff_members = [m for m in members[:5] if m in people.staff]
    if plan.kind == "unified":
        count = rand.between(1, 2)
        return (staff_members or [rand.pick(people.staff)])[:count]
    return staff_members[:1] if rand.chance(0.5) else []


def _remember(world: World, plan: _Plan, index: int) -> None:
    groups = world.groups
    if plan.kind == "everyone":
        groups.all_staff = index
    elif plan.kind == "exclusions":
        groups.ca_exclusions = index
    elif plan.kind == "creators":
        groups.creators = index
    elif plan.kind == "role":
        groups.role_assignable.append(index)
    elif plan.kind == "dynamic" and groups.dynamic is None:
        groups.dynamic = index
    if plan.department is not None:
        groups.department_dynamic[plan.department] = index


def _object(world: World, rand: Rand, nicknames: Nicknames, plan: _Plan,
            group_id: str) -> dict[str, Any]:
    """The group's Graph JSON for its kind."""
    unified = plan.kind == "unified"
    mail_enabled = plan.kind in ("unified", "mailsecurity")
    nick = nicknames.take(re.sub(r"[^A-Za-z0-9]", "", plan.name) or "group")
    created = rand.moment(TENANT_BORN + 20 * DAY, GENERATED_AT - DAY)
    mail = f"{nick}@{world.default_domain}" if mail_enabled else None
    group_types = ["Unified"] if unified else []
    if plan.rule:
        group_types.append("DynamicMembership")
    obj: dict[str, Any] = {
        "id": group_id, "deletedDateTime": None, "classification": None,
        "createdDateTime": iso(created),
        "description": plan.description, "displayName": plan.name,
        "expirationDateTime": None, "groupTypes": group_types,
        "isAssignableToRole": True if plan.kind == "role" else None,
        "mail": mail, "mailEnabled": mail_enabled, "mailNickname": nick,
        "membershipRule": plan.rule, "membershipRuleProcessingState": "On" if plan.rule else None,
        "onPremisesDomainName": None, "onPremisesLastSyncDateTime": None,
        "onPremisesNetBiosName": None, "onPremisesProvisioningErrors": [],
        "onPremisesSamAccountName": None, "onPremisesSecurityIdentifier": None,
        "onPremisesSyncEnabled": None, "preferredDataLocation": None, "preferredLanguage": None,
        "proxyAddresses": [f"SMTP:{mail}", f"smtp:{nick}@{world.initial_domain}"] if mail else [],
        "renewedDateTime": iso(created), "resourceBehaviorOptions": [],
        "resourceProvisioningOptions": ["Team"] if unified and rand.chance(0.6) else [],
        "securityEnabled": not unified, "securityIdentifier": cloud_sid(group_id),
        "serviceProvisioningErrors": [], "theme": None,
        "visibility": ("Public" if rand.chance(0.3) else "Private") if unified
        else ("Private" if plan.kind == "role" else None),
    }
    if world.hybrid and plan.kind in ("security", "mailsecurity") and rand.chance(SYNCED_SHARE):
        obj.update({
            "onPremisesDomainName": "corp.contoso.com", "onPremisesNetBiosName": "CORP",
            "onPremisesLastSyncDateTime": iso(GENERATED_AT - rand.moment(0, 1800)),
            "onPremisesSamAccountName": nick[:20],
            "onPremisesSecurityIdentifier": f"S-1-5-21-3623811015-3361044348-30300820-"
                                            f"{20000 + len(world.groups.ids)}",
            "onPremisesSyncEnabled": True,
        })
    return obj
