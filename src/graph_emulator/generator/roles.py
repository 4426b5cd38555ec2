"""Directory roles: built-in and custom role definitions, administrative units, activated
directory roles with their members, role assignments (tenant-wide and AU-scoped) and
scoped role memberships."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from graph_emulator.generator import wellknown as wk
from graph_emulator.generator.ids import Rand, b64url, guid_le
from graph_emulator.generator.names import IT_DEPARTMENT, OFFICES
from graph_emulator.generator.people import display_name
from graph_emulator.generator.world import World

_BUILT_IN = {role.template_id: role for role in wk.BUILT_IN_ROLES}
_CUSTOM = (
    ("Application Registration Reader", "Allows reading Application Registrations",
     ("microsoft.directory/applications/allProperties/read",)),
    ("Tier 1 Support - Password Reset", "Resets passwords and revokes sessions of "
     "non-administrators.", ("microsoft.directory/users/password/update",
                             "microsoft.directory/users/invalidateAllRefreshTokens")),
    ("Device Ownership Manager", "Manages registered owners and users of devices.",
     ("microsoft.directory/devices/registeredOwners/update",
      "microsoft.directory/devices/registeredUsers/update")),
)


@dataclass(frozen=True)
class _Assignment:
    role: str
    """Role definition id (the template id for built-in roles)."""
    principal: str
    kind: str
    """user, group or servicePrincipal"""
    scope: str | None = None
    """Administrative unit id, or None for the whole tenant."""
    user: int | None = None
    """The user's index, for users."""


def emit_roles(world: World) -> None:
    """Emit role definitions, AUs, activated roles, assignments and their links."""
    rand = world.rand("roles")
    custom = _emit_definitions(world, rand)
    units = _emit_administrative_units(world, rand)
    assignments = list(dict.fromkeys(_assignments(world, rand, custom, units)))
    activated: dict[str, str] = {}
    for assignment in assignments:
        role = _BUILT_IN.get(assignment.role)
        if role and role.template_id not in activated:
            activated[role.template_id] = rand.uuid()
            world.out.add("directoryRoles", {
                "id": activated[role.template_id], "deletedDateTime": None,
                "description": role.description, "displayName": role.name,
                "roleTemplateId": role.template_id})
    for assignment in assignments:
        _emit_assignment(world, rand, assignment, activated)


def _emit_definitions(world: World, rand: Rand) -> list[str]:
    for role in wk.BUILT_IN_ROLES:
        world.out.add("roleDefinitions", _definition(
            role.template_id, role.name, role.description, role.actions, built_in=True))
    custom = []
    for name, description, actions in _CUSTOM:
        role_id = rand.uuid()
        custom.append(role_id)
        world.out.add("roleDefinitions", _definition(role_id, name, description, actions,
                                                     built_in=False))
    return custom


def _definition(role_id: str, name: str, description: str, actions: Sequence[str], *,
                built_in: bool) -> dict[str, Any]:
    return {
        "id": role_id, "description": description, "displayName": name, "isBuiltIn": built_in,
        "isEnabled": True, "resourceScopes": ["/"], "templateId": role_id,
        "version": "1" if built_in else None,
        "rolePermissions": [{"allowedResourceActions": list(actions), "condition": None,
                             "excludedResourceActions": []}],
    }


def _emit_administrative_units(world: World, rand: Rand) -> list[tuple[str, list[int]]]:
    """One dynamic AU per office country, and a restricted AU for executives."""
    people = world.people
    units: list[tuple[str, list[int]]] = []
    for office_index in range(people.office_count):
        country = OFFICES[office_index].country
        members = [i for i in people.staff if people.office[i] == office_index]
        units.append((_unit(world, rand, f"{country} Users", f"Staff based in {country}.",
                            rule=f'(user.country -eq "{country}")'), members))
    if len(people.staff) >= 10 and people.ceo is not None:
        executives = [people.ceo, *(dept[0] for dept in people.departments if dept)]
        units.append((_unit(world, rand, "Executives", "Managed by the Tier 0 team only.",
                            restricted=True), executives))
    for unit_id, members in units:
        world.administrative_units.append(unit_id)
        for member in members:
            world.out.link("members", unit_id, people.ids[member])
    return units


def _unit(world: World, rand: Rand, name: str, description: str, *, rule: str | None = None,
          restricted: bool = False) -> str:
    unit_id = rand.uuid()
    world.out.add("administrativeUnits", {
        "id": unit_id, "deletedDateTime": None, "description": description,
        "displayName": name, "isMemberManagementRestricted": restricted,
        "membershipRule": rule, "membershipRuleProcessingState": "On" if rule else None,
        "membershipType": "Dynamic" if rule else "Assigned",
        "visibility": "HiddenMembership" if restricted else None,
    })
    return unit_id


def _assignments(world: World, rand: Rand, custom: list[str],
                 units: list[tuple[str, list[int]]]) -> list[_Assignment]:
    people, groups = world.people, world.groups
    departments = people.departments
    it = list(departments[IT_DEPARTMENT]) if len(departments) > IT_DEPARTMENT else []
    pool = it or [people.admin]

    def user(role: str, index: int, scope: str | None = None) -> _Assignment:
        return _Assignment(role, people.ids[index], "user", scope, index)

    result = [user(wk.GLOBAL_ADMIN, people.admin)]
    if people.break_glass is not None:
        result.append(user(wk.GLOBAL_ADMIN, people.break_glass))
    result.append(user("e8611ab8-c189-46e8-94e1-60213ab1f814", pool[0]))
    for template in (wk.USER_ADMIN, wk.APPLICATION_ADMIN, wk.CA_ADMIN, wk.EXCHANGE_ADMIN,
                     wk.GROUPS_ADMIN, wk.GLOBAL_READER):
        for index in rand.sample(pool, 1 + world.spec.users // 20000):
            result.append(user(template, index))
    role_groups = [(wk.HELPDESK_ADMIN, 0), (wk.SECURITY_ADMIN, 1)]
    for template, position in role_groups:
        if position < len(groups.role_assignable):
            group = groups.role_assignable[position]
            result.append(_Assignment(template, groups.ids[group], "group"))
        else:
            result.append(user(template, rand.pick(pool)))
    if len(world.apps.custom_sp_ids) > 1:
        result.append(_Assignment(wk.DIRECTORY_READERS, world.apps.custom_sp_ids[1],
                                  "servicePrincipal"))
    for role_id in custom:
        result.append(user(role_id, rand.pick(pool)))
    pool_set = set(pool)
    for unit_id, members in units:
        local = [i for i in members if i in pool_set] or pool
        result.append(user(wk.HELPDESK_ADMIN, rand.pick(local), unit_id))
    if units:
        result.append(user(wk.USER_ADMIN, pool[0], units[-1][0]))
    return result


def _emit_assignment(world: World, rand: Rand, assignment: _Assignment,
                     activated: dict[str, str]) -> None:
    scope = f"/administrativeUnits/{assignment.scope}" if assignment.scope else "/"
    # Tenant-wide ids follow the service's pattern (role template and principal, both
    # little-endian, base64url, "-1"); the AU-scoped form is not documented, so the unit
    # is appended the same way.
    raw = guid_le(assignment.role) + guid_le(assignment.principal)
    if assignment.scope:
        raw += guid_le(assignment.scope)
    world.out.add("roleAssignments", {
        "id": f"{b64url(raw)}-1", "appScopeId": None, "condition": None,
        "directoryScopeId": scope, "principalId": assignment.principal,
        "principalOrganizationId": world.tenant_id, "roleDefinitionId": assignment.role,
    })
    role_object = activated.get(assignment.role)
    if role_object is None:
        return
    if assignment.scope is None:
        world.out.link("members", role_object, assignment.principal)
    elif assignment.user is not None:
        world.out.add("scopedRoleMembers", {
            "id": b64url(guid_le(role_object) + guid_le(assignment.scope)
                         + guid_le(assignment.principal)),
            "administrativeUnitId": assignment.scope, "roleId": role_object,
            "roleMemberInfo": {"displayName": display_name(world.people, assignment.user),
                               "id": assignment.principal},
        })
