"""Every write route, the recycle bin and ``getByIds``, with permissions and throttling lane.

Writes cost 1 resource unit and count against the write quota (graph-facts 4.2); Conditional
Access and named-location writes go to the ``conditionalAccess`` lane (1 request per second
per tenant).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from graph_emulator.context import Context
from graph_emulator.handlers import deleted_items, directory_objects
from graph_emulator.model.kinds import KINDS
from graph_emulator.protocol import GraphResponse
from graph_emulator.routing import Router

from . import (
    applications,
    grants,
    groups,
    invitations,
    licences,
    links,
    policies,
    roles,
    units,
    users,
)

ASSIGN = KINDS["appRoleAssignments"].write
CA_LANE = "conditionalAccess"


def _crud(router: Router, kind: str, create: Callable[[Context], GraphResponse] | None,
          update: Callable[[Context], GraphResponse] | None,
          delete: Callable[[Context], GraphResponse] | None, *, lane: str = "directory") -> None:
    spec = KINDS[kind]
    if create is not None:
        router.add("POST", spec.path, create, spec.write, resource_units=1, lane=lane)
    if update is not None:
        router.add("PATCH", spec.path + "/{id}", update, spec.write, resource_units=1, lane=lane)
    if delete is not None:
        router.add("DELETE", spec.path + "/{id}", delete, spec.write, resource_units=1,
                   lane=lane)


def _register_objects(router: Router) -> None:
    _crud(router, "users", users.create_user, users.update_user, users.delete_user)
    _crud(router, "groups", groups.create_group, groups.update_group, groups.delete_group)
    _crud(router, "applications", applications.create_application,
          partial(applications.update_object, kind="applications"),
          applications.delete_application)
    _crud(router, "servicePrincipals", applications.create_service_principal,
          partial(applications.update_object, kind="servicePrincipals"),
          applications.delete_service_principal)
    _crud(router, "devices", units.create_device, partial(units.update_plain, kind="devices"),
          units.delete_device)
    _crud(router, "administrativeUnits", units.create_unit,
          partial(units.update_plain, kind="administrativeUnits"), units.delete_unit)
    _crud(router, "oauth2PermissionGrants", grants.create_grant, grants.update_grant,
          grants.delete_grant)
    _crud(router, "roleDefinitions", roles.create_definition, roles.update_definition,
          roles.delete_definition)
    _crud(router, "roleAssignments", roles.create_assignment, None, roles.delete_assignment)
    _crud(router, "groupSettings", policies.create_setting, policies.update_setting,
          partial(policies.delete_policy_object, kind="groupSettings"))
    for kind, create, update in (
        ("conditionalAccessPolicies", policies.create_policy, policies.update_policy),
        ("namedLocations", policies.create_location, policies.update_location),
    ):
        _crud(router, kind, create, update, partial(policies.delete_policy_object, kind=kind),
              lane=CA_LANE)
    authorization = KINDS["authorizationPolicy"]
    router.add("PATCH", authorization.path, policies.update_authorization_policy,
               authorization.write, resource_units=1)


def _register_actions(router: Router) -> None:
    for kind in ("applications", "servicePrincipals"):
        spec = KINDS[kind]
        router.add("POST", spec.path + "/{id}/addPassword",
                   partial(applications.add_password, kind=kind), spec.write, resource_units=1)
        router.add("POST", spec.path + "/{id}/removePassword",
                   partial(applications.remove_password, kind=kind), spec.write,
                   resource_units=1)
    router.add("POST", "/servicePrincipals/{id}/appRoleAssignedTo",
               grants.assign_to_resource, ASSIGN, resource_units=1)
    router.add("DELETE", "/servicePrincipals/{id}/appRoleAssignedTo/{assignment}",
               partial(grants.remove_assignment, kind="servicePrincipals", side="resourceId"),
               ASSIGN, resource_units=1)
    for kind in ("users", "groups", "servicePrincipals"):
        path = KINDS[kind].path + "/{id}/appRoleAssignments"
        router.add("POST", path, partial(grants.assign_to_principal, kind=kind), ASSIGN,
                   resource_units=1)
        router.add("DELETE", path + "/{assignment}",
                   partial(grants.remove_assignment, kind=kind, side="principalId"), ASSIGN,
                   resource_units=1)
    for kind, write in (("users", "User.ReadWrite.All"), ("groups", "Group.ReadWrite.All")):
        router.add("POST", KINDS[kind].path + "/{id}/assignLicense",
                   partial(licences.assign_license, kind=kind),
                   ("LicenseAssignment.ReadWrite.All", write, "Directory.ReadWrite.All"),
                   resource_units=1)
    router.add("POST", "/invitations", invitations.invite, invitations.PERMISSIONS,
               resource_units=1)
    scoped = "/directory/administrativeUnits/{id}/scopedRoleMembers"
    permissions = KINDS["scopedRoleMembers"].write
    router.add("POST", scoped, roles.create_scoped_member, permissions, resource_units=1)
    router.add("DELETE", scoped + "/{membership}", roles.delete_scoped_member, permissions,
               resource_units=1)


def register(router: Router) -> None:
    """Add the write routes, the recycle bin and ``getByIds`` to ``router``."""
    _register_objects(router)
    _register_actions(router)
    links.register(router)
    deleted_items.register(router)
    directory_objects.register(router)
