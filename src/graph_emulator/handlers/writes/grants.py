"""App role assignments and delegated permission grants (serviceprincipal-post-approleassignedto,
user-post-approleassignments, oauth2permissiongrant-post and -update and -delete)."""

from __future__ import annotations

from typing import Any

from graph_emulator.context import Context
from graph_emulator.handlers.collections import get_entry
from graph_emulator.model.directory import Entry
from graph_emulator.protocol import GraphError, GraphResponse, not_found

from .common import add_object, body_of, created, no_content, now_iso
from .validation import check_properties, check_required, new_opaque_id

DEFAULT_ROLE = "00000000-0000-0000-0000-000000000000"
"""The default app role, assignable on any resource (approleassignment resource)."""
PRINCIPAL_TYPES = {"users": "User", "groups": "Group", "servicePrincipals": "ServicePrincipal"}


def _principal(ctx: Context, principal_id: Any) -> Entry:
    entry = ctx.directory.get(str(principal_id))
    if entry is None or entry.kind not in PRINCIPAL_TYPES:
        raise not_found(str(principal_id))
    return entry


def _check_role(resource: Entry, app_role_id: Any) -> None:
    roles = {r.get("id") for r in resource.data.get("appRoles") or [] if isinstance(r, dict)}
    if app_role_id != DEFAULT_ROLE and app_role_id not in roles:
        raise GraphError(400, "Request_BadRequest",
                         "Permission being assigned was not found on application "
                         f"'{resource.data.get('appId')}'.")


def _assign(ctx: Context, body: dict[str, Any], resource: Entry, principal: Entry) -> Entry:
    check_properties("appRoleAssignments", body)
    check_required(body, ("principalId", "resourceId", "appRoleId"))
    _check_role(resource, body["appRoleId"])
    for other in ctx.directory.find("appRoleAssignments", "principalId", principal.id):
        if other.data.get("resourceId") == resource.id and \
                other.data.get("appRoleId") == body["appRoleId"]:
            raise GraphError(400, "Request_BadRequest",
                             "Permission being assigned already exists on the object")
    return add_object(ctx, "appRoleAssignments", {
        "id": new_opaque_id(), "deletedDateTime": None, "appRoleId": body["appRoleId"],
        "createdDateTime": now_iso(ctx),
        "principalDisplayName": principal.data.get("displayName"),
        "principalId": principal.id, "principalType": PRINCIPAL_TYPES[principal.kind],
        "resourceDisplayName": resource.data.get("displayName"), "resourceId": resource.id,
    })


def assign_to_resource(ctx: Context) -> GraphResponse:
    """``POST /servicePrincipals/{id}/appRoleAssignedTo``; 201."""
    resource = get_entry(ctx, "servicePrincipals", ctx.params["id"])
    body = body_of(ctx)
    if body.get("resourceId") not in (None, resource.id):
        raise GraphError(400, "Request_BadRequest",
                         "The resourceId does not match the service principal in the URL.")
    entry = _assign(ctx, {**body, "resourceId": resource.id}, resource,
                    _principal(ctx, body.get("principalId")))
    return created(ctx, entry, f"servicePrincipals('{resource.id}')/appRoleAssignedTo/$entity")


def assign_to_principal(ctx: Context, kind: str) -> GraphResponse:
    """``POST /{users|groups|servicePrincipals}/{id}/appRoleAssignments``; 201."""
    principal = get_entry(ctx, kind, ctx.params["id"])
    body = body_of(ctx)
    if body.get("principalId") not in (None, principal.id):
        raise GraphError(400, "Request_BadRequest",
                         "The principalId does not match the object in the URL.")
    resource = ctx.directory.get(str(body.get("resourceId")), "servicePrincipals")
    if resource is None:
        raise not_found(str(body.get("resourceId")))
    entry = _assign(ctx, {**body, "principalId": principal.id}, resource, principal)
    return created(ctx, entry, f"{kind}('{principal.id}')/appRoleAssignments/$entity")


def remove_assignment(ctx: Context, kind: str, side: str) -> GraphResponse:
    """``DELETE`` an app role assignment below its resource or its principal; 204."""
    owner = get_entry(ctx, kind, ctx.params["id"])
    assignment = ctx.directory.get(ctx.params["assignment"], "appRoleAssignments")
    if assignment is None or assignment.data.get(side) != owner.id:
        raise not_found(ctx.params["assignment"])
    ctx.directory.hard_delete(assignment)
    return no_content()


def create_grant(ctx: Context) -> GraphResponse:
    """``POST /oauth2PermissionGrants``; 201."""
    body = body_of(ctx)
    check_properties("oauth2PermissionGrants", body)
    check_required(body, ("clientId", "consentType", "resourceId"))
    for name in ("clientId", "resourceId"):
        if ctx.directory.get(str(body[name]), "servicePrincipals") is None:
            raise not_found(str(body[name]))
    consent = body["consentType"]
    if consent not in ("AllPrincipals", "Principal") or \
            (consent == "Principal") != bool(body.get("principalId")):
        raise GraphError(400, "Request_BadRequest",
                         "Invalid value specified for property 'consentType' of resource "
                         "'OAuth2PermissionGrant'.")
    if consent == "Principal":
        _principal(ctx, body["principalId"])
    for other in ctx.directory.find("oauth2PermissionGrants", "clientId", str(body["clientId"])):
        if all(other.data.get(k) == body.get(k) for k in ("resourceId", "principalId")):
            raise GraphError(409, "Request_MultipleObjectsWithSameKeyValue",
                             "Permission entry already exists.")
    entry = add_object(ctx, "oauth2PermissionGrants", {
        "principalId": None, "scope": "", **body, "id": new_opaque_id()})
    return created(ctx, entry)


def update_grant(ctx: Context) -> GraphResponse:
    """``PATCH /oauth2PermissionGrants/{id}``: only ``scope`` changes; 204."""
    entry = get_entry(ctx, "oauth2PermissionGrants", ctx.params["id"])
    body = body_of(ctx)
    check_properties("oauth2PermissionGrants", body,
                     extra_read_only=("clientId", "consentType", "principalId", "resourceId"))
    if body:
        ctx.directory.update(entry, body)
    return no_content()


def delete_grant(ctx: Context) -> GraphResponse:
    """``DELETE /oauth2PermissionGrants/{id}`` (hard delete); 204."""
    entry = get_entry(ctx, "oauth2PermissionGrants", ctx.params["id"])
    ctx.directory.hard_delete(entry)
    return no_content()
