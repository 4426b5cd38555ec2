"""Role writes: custom role definitions, role assignments, AU-scoped role members
(rbacapplication-post-roledefinitions, unifiedroledefinition-update and -delete,
rbacapplication-post-roleassignments, unifiedroleassignment-delete,
administrativeunit-post-scopedrolemembers)."""

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
    return created(ctx, entry)


def delete_assignment(ctx: Context) -> GraphResponse:
    """``DELETE /roleManagement/directory/roleAssignments/{id}``; 204."""
    ctx.directory.hard_delete(get_entry(ctx, "roleAssignments", ctx.params["id"]))
    return no_content()


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
