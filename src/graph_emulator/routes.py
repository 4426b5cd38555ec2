"""Every Graph route the emulator serves, with its permissions and throttling cost.

Base costs in resource units are the identity service's documented ones
(graph-facts.md section 4.2); any path not listed there costs 1.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from graph_emulator.context import Context
from graph_emulator.handlers import batch, collections, delta, relations, writes
from graph_emulator.model.kinds import KINDS
from graph_emulator.protocol import GraphResponse
from graph_emulator.routing import Handler, Router

READ_COST = {"users": 2, "applications": 2, "oauth2PermissionGrants": 2, "subscribedSkus": 3}
COUNTABLE = frozenset({
    # Collections whose /$count segment Microsoft documents (msgraph-v1.0-endpoints).
    "users", "groups", "applications", "servicePrincipals", "devices", "directoryRoles",
    "oauth2PermissionGrants", "organization", "domains", "groupSettings",
    "administrativeUnits", "roleDefinitions", "roleAssignments",
    "conditionalAccessPolicies", "namedLocations",
})
CA_KINDS = frozenset({"conditionalAccessPolicies", "namedLocations"})
MEMBER_READ = ("GroupMember.Read.All", "GroupMember.ReadWrite.All")

NAVIGATIONS: dict[str, tuple[str, ...]] = {
    "users": ("directReports", "memberOf", "ownedObjects", "registeredDevices", "ownedDevices",
              "transitiveMemberOf"),
    "groups": ("members", "owners", "memberOf", "transitiveMembers", "transitiveMemberOf"),
    "applications": ("owners",),
    "servicePrincipals": ("owners", "memberOf"),
    "devices": ("registeredOwners", "registeredUsers", "memberOf"),
    "directoryRoles": ("members",),
    "administrativeUnits": ("members",),
}
NAV_COST = {"members": 3, "memberOf": 2, "ownedObjects": 2, "transitiveMembers": 5,
            "transitiveMemberOf": 2}


def _lane(kind: str) -> str:
    return "conditionalAccess" if kind in CA_KINDS else "directory"


def _register_kind_reads(router: Router, kind: str) -> None:
    spec = KINDS[kind]
    cost = READ_COST.get(kind, 1)
    lane = _lane(kind)
    if spec.singleton:
        router.add("GET", spec.path, partial(collections.get_singleton, kind=kind), spec.read,
                   lane=lane)
        return
    if "{id}" in spec.path:
        return
    router.add("GET", spec.path, _bind(collections.list_kind, kind), spec.read,
               resource_units=cost, lane=lane)
    if kind in COUNTABLE:
        router.add("GET", spec.path + "/$count", _bind(collections.count_kind, kind),
                   spec.read, resource_units=cost, lane=lane)
    router.add("GET", spec.path + "/{id}", _bind(collections.get_one, kind), spec.read,
               resource_units=cost, lane=lane)
    for navigation in NAVIGATIONS.get(kind, ()):
        permissions = spec.read + (MEMBER_READ if "embers" in navigation else ())
        router.add("GET", f"{spec.path}/{{id}}/{navigation}",
                   partial(relations.list_related, kind=kind, navigation=navigation),
                   permissions, resource_units=NAV_COST.get(navigation, 1))


def _bind(function: Callable[[Context, str], GraphResponse], kind: str) -> Handler:
    return lambda ctx: function(ctx, kind)


def _register_assignment_reads(router: Router) -> None:
    read = KINDS["appRoleAssignments"].read
    router.add("GET", "/servicePrincipals/{id}/appRoleAssignedTo", relations.app_role_assigned_to,
               read, resource_units=2)
    for kind in ("users", "groups", "servicePrincipals"):
        router.add("GET", f"{KINDS[kind].path}/{{id}}/appRoleAssignments",
                   partial(relations.app_role_assignments, kind=kind), read, resource_units=2)
    router.add("GET", "/users/{id}/manager", relations.get_manager, KINDS["users"].read)
    router.add("GET", "/directory/administrativeUnits/{id}/scopedRoleMembers",
               relations.scoped_role_members, KINDS["scopedRoleMembers"].read)


def build_router() -> Router:
    """The router with every read route; write, delta and batch modules add theirs."""
    router = Router()
    for kind in KINDS:
        _register_kind_reads(router, kind)
    _register_assignment_reads(router)
    delta.register(router)
    writes.register(router)
    batch.register(router)
    return router
