"""Role writes: custom role definitions, role assignments, AU-scoped role members
(rbacapplication-post-roledefinitions, unifiedroledefinition-update and -delete,
rbacapplication-post-roleassignments, unifiedroleassignment-delete,
administrativeunit-post-scopedrolemembers).

A tenant-wide assignment of a built-in role and a member of its activated directory role
are one fact seen through two APIs (graph-facts 5.6: the legacy ``directoryRoles/{id}/
members`` and the unified RBAC API): creating the assignment adds the principal to the
directory role, activating the role from its template when no one held it yet, and
deleting it removes the principal again."""

from __future__ import annotations

from typing import Any

from graph_emulator.context import Context
from graph_emulator.handlers.collections import get_entry
from graph_emulator.model.directory import Entry
from graph_emulator.protocol import GraphError, GraphResponse, not_found

from .common import add_object, body_of, created, no_content
from .validation import check_properties, check_required, new_id, new_opaque_id

BUILT_IN_MESSAGE = "Built-in role definitions cannot be modified or deleted."


def create_definition(ctx: Context) -> GraphResponse:
    """Create a custom role; ``templateId`` may be given to keep ids stable; 201."""
    body = body_of(ctx)
    check_properties("roleDefinitions", body)
    check_required(body, ("displayName", "rolePermissions", "isEnabled"))
    object_id = new_id()
    entry = add_object(ctx, "roleDefinitions", {
        "description": None, "resourceScopes": ["/"], "version": None,
        **body, "id": object_id, "isBuiltIn": False,
        "templateId": body.get("templateId") or object_id})
    return created(ctx, entry)


def _custom_definition(ctx: Context) -> Entry:
    entry = get_entry(ctx, "roleDefinitions", ctx.params["id"])
    if entry.data.get("isBuiltIn"):
        raise GraphError(400, "Request_BadRequest", BUILT_IN_MESSAGE)
    return entry


def update_definition(ctx: Context) -> GraphResponse:
    """``PATCH`` a custom role definition; 204."""
    entry = _custom_definition(ctx)
    body = body_of(ctx)
    check_properties("roleDefinitions", body)
    if body:
        ctx.directory.update(entry, body)
    return no_content()


def delete_definition(ctx: Context) -> GraphResponse:
    """``DELETE`` a custom role definition; 204."""
    ctx.directory.hard_delete(_custom_definition(ctx))
    return no_content()


def _definition(ctx: Context, definition_id: str) -> Entry:
    for entry in ctx.directory.entries("roleDefinitions"):
        if definition_id in (entry.id, entry.data.get("templateId")):
            return entry
    raise not_found(definition_id)


def _check_principal(ctx: Context, principal_id: str) -> None:
    principal = ctx.directory.get(principal_id)
    if principal is None or principal.kind not in ("users", "groups", "servicePrincipals"):
        raise not_found(principal_id)
    if principal.kind == "groups" and principal.data.get("isAssignableToRole") is not True:
        raise GraphError(400, "Request_BadRequest",
                         "Only groups with isAssignableToRole set can be assigned a role.")


def _check_scope(ctx: Context, scope: Any) -> None:
    if scope == "/":
        return
    prefix = "/administrativeUnits/"
    if isinstance(scope, str) and scope.startswith(prefix) and \
            ctx.directory.get(scope.removeprefix(prefix), "administrativeUnits") is not None:
        return
    if isinstance(scope, str) and ctx.directory.get(scope.lstrip("/")) is not None:
        return
    raise GraphError(400, "Request_BadRequest",
                     f"Invalid value specified for property 'directoryScopeId': '{scope}'.")


def create_assignment(ctx: Context) -> GraphResponse:
    """Assign a role to a principal at the tenant, an AU or one object; 201."""
    body = body_of(ctx)
    check_properties("roleAssignments", body)
    check_required(body, ("principalId", "roleDefinitionId", "directoryScopeId"))
    _check_principal(ctx, str(body["principalId"]))
    definition = _definition(ctx, str(body["roleDefinitionId"]))
    _check_scope(ctx, body["directoryScopeId"])
    for other in ctx.directory.find("roleAssignments", "principalId", str(body["principalId"])):
        if other.data.get("roleDefinitionId") in (definition.id, definition.data.get("templateId"))\
                and other.data.get("directoryScopeId") == body["directoryScopeId"]:
            raise GraphError(409, "Request_MultipleObjectsWithSameKeyValue",
                             "A conflicting object with one or more of the specified property "
                             "values is present in the directory.")
    entry = add_object(ctx, "roleAssignments", {**body, "id": new_opaque_id()})
    role = _directory_role(ctx, definition, body["directoryScopeId"], activate=True)
    if role is not None:
        ctx.directory.link("members", role.id, str(body["principalId"]))
    return created(ctx, entry)


def _directory_role(ctx: Context, definition: Entry, scope: Any, *,
                    activate: bool) -> Entry | None:
    """The activated directory role a tenant-wide assignment of a built-in role makes its
    principal a member of (activated from the template if ``activate``); None for custom
    roles and narrower scopes."""
    if scope != "/" or not definition.data.get("isBuiltIn"):
        return None
    template = definition.data.get("templateId") or definition.id
    for role in ctx.directory.entries("directoryRoles"):
        if role.data.get("roleTemplateId") == template:
            return role
    if not activate:
        return None
    return add_object(ctx, "directoryRoles", {
        "id": new_id(), "deletedDateTime": None, "roleTemplateId": template,
        "displayName": definition.data.get("displayName"),
        "description": definition.data.get("description")})


def delete_assignment(ctx: Context) -> GraphResponse:
    """``DELETE /roleManagement/directory/roleAssignments/{id}``; 204."""
    entry = get_entry(ctx, "roleAssignments", ctx.params["id"])
    definition = _definition_or_none(ctx, str(entry.data.get("roleDefinitionId")))
    ctx.directory.hard_delete(entry)
    role = None if definition is None else _directory_role(
        ctx, definition, entry.data.get("directoryScopeId"), activate=False)
    principal = str(entry.data.get("principalId"))
    if role is not None and not _still_assigned(ctx, principal, definition):
        ctx.directory.unlink("members", role.id, principal)
    return no_content()


def _definition_or_none(ctx: Context, definition_id: str) -> Entry | None:
    try:
        return _definition(ctx, definition_id)
    except GraphError:
        return None


def _still_assigned(ctx: Context, principal: str, definition: Entry | None) -> bool:
    """Whether another tenant-wide assignment gives ``principal`` the same role."""
    if definition is None:
        return False
    ids = (definition.id, definition.data.get("templateId"))
    return any(other.data.get("roleDefinitionId") in ids
               and other.data.get("directoryScopeId") == "/"
               for other in ctx.directory.find("roleAssignments", "principalId", principal))


def create_scoped_member(ctx: Context) -> GraphResponse:
    """``POST /directory/administrativeUnits/{id}/scopedRoleMembers``; 201."""
    unit = get_entry(ctx, "administrativeUnits", ctx.params["id"])
    body = body_of(ctx)
    check_properties("scopedRoleMembers", body)
    check_required(body, ("roleId", "roleMemberInfo"))
    if ctx.directory.get(str(body["roleId"]), "directoryRoles") is None:
        raise not_found(str(body["roleId"]))
    info = body["roleMemberInfo"] if isinstance(body["roleMemberInfo"], dict) else {}
    member = ctx.directory.get(str(info.get("id")))
    if member is None:
        raise not_found(str(info.get("id")))
    entry = add_object(ctx, "scopedRoleMembers", {
        "id": new_opaque_id(), "administrativeUnitId": unit.id, "roleId": body["roleId"],
        "roleMemberInfo": {"id": member.id, "displayName": member.data.get("displayName"),
                           "userPrincipalName": member.data.get("userPrincipalName")}})
    return created(ctx, entry, "scopedRoleMemberships/$entity")


def delete_scoped_member(ctx: Context) -> GraphResponse:
    """``DELETE /directory/administrativeUnits/{id}/scopedRoleMembers/{membership}``; 204."""
    unit = get_entry(ctx, "administrativeUnits", ctx.params["id"])
    entry = ctx.directory.get(ctx.params["membership"], "scopedRoleMembers")
    if entry is None or entry.data.get("administrativeUnitId") != unit.id:
        raise not_found(ctx.params["membership"])
    ctx.directory.hard_delete(entry)
    return no_content()
