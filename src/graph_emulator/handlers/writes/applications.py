"""Applications and service principals: create, update, delete, and client secrets
(application-post-applications, serviceprincipal-post-serviceprincipals,
application-addpassword, application-removepassword)."""

from __future__ import annotations

import secrets
import string
from typing import Any

from graph_emulator.clock import iso
from graph_emulator.context import Context
from graph_emulator.handlers.collections import get_entry
from graph_emulator.model.directory import Entry
from graph_emulator.protocol import GraphError, GraphResponse

from . import links
from .common import add_object, body_of, created, no_content, now_iso
from .validation import check_properties, check_required, conflict, new_id, split_binds

TWO_YEARS = 2 * 365 * 86400
SECRET_ALPHABET = string.ascii_letters + string.digits + "~._-"

APP_DEFAULTS: dict[str, Any] = {
    "applicationTemplateId": None, "description": None, "identifierUris": [],
    "signInAudience": "AzureADMyOrg", "tags": [], "keyCredentials": [],
    "passwordCredentials": [], "appRoles": [], "requiredResourceAccess": [],
    "api": {"oauth2PermissionScopes": [], "preAuthorizedApplications": [],
            "requestedAccessTokenVersion": None, "acceptMappedClaims": None,
            "knownClientApplications": []},
    "web": {"redirectUris": [], "homePageUrl": None, "logoutUrl": None,
            "implicitGrantSettings": {"enableAccessTokenIssuance": False,
                                      "enableIdTokenIssuance": False}},
    "groupMembershipClaims": None, "notes": None,
}


def create_application(ctx: Context) -> GraphResponse:
    """Register an application with a new id and a new ``appId``; 201."""
    plain, binds = split_binds(body_of(ctx))
    check_properties("applications", plain)
    check_required(plain, ("displayName",))
    data = {**APP_DEFAULTS, **plain, "id": new_id(), "appId": new_id(),
            "createdDateTime": now_iso(ctx), "deletedDateTime": None,
            "publisherDomain": ctx.tenant.initial_domain}
    plan = links.plan_binds(ctx, Entry("applications", data, 0, 0), binds, creating=True)
    entry = add_object(ctx, "applications", data)
    links.write_plan(ctx, entry, plan)
    return created(ctx, entry)


def _sp_data(ctx: Context, app: Entry, plain: dict[str, Any]) -> dict[str, Any]:
    source = app.data
    scopes = (source.get("api") or {}).get("oauth2PermissionScopes", [])
    return {
        "accountEnabled": True, "appRoleAssignmentRequired": False, "tags": [],
        "displayName": source.get("displayName"), "description": None, "notes": None,
        "appDisplayName": source.get("displayName"), "appId": source["appId"],
        "appOwnerOrganizationId": ctx.tenant.tenant_id, "appRoles": source.get("appRoles", []),
        "oauth2PermissionScopes": scopes, "keyCredentials": [], "passwordCredentials": [],
        "servicePrincipalNames": [source["appId"], *source.get("identifierUris", [])],
        "servicePrincipalType": "Application", "signInAudience": source.get("signInAudience"),
        "replyUrls": (source.get("web") or {}).get("redirectUris", []),
        **plain, "id": new_id(), "deletedDateTime": None,
    }


def create_service_principal(ctx: Context) -> GraphResponse:
    """Create the service principal of an application of this tenant; 201."""
    plain, binds = split_binds(body_of(ctx))
    check_properties("servicePrincipals", plain)
    check_required(plain, ("appId",))
    app_id = str(plain["appId"])
    apps = ctx.directory.find("applications", "appId", app_id)
    if not apps:
        raise GraphError(400, "Request_BadRequest",
                         f"The appId '{app_id}' of the service principal does not reference a "
                         "valid application object.",
                         details=[{"code": "NoBackingApplicationObject", "target": "appId"}])
    if ctx.directory.find("servicePrincipals", "appId", app_id):
        raise conflict("servicePrincipalNames")
    data = _sp_data(ctx, apps[0], plain)
    plan = links.plan_binds(ctx, Entry("servicePrincipals", data, 0, 0), binds, creating=True)
    entry = add_object(ctx, "servicePrincipals", data)
    links.write_plan(ctx, entry, plan)
    return created(ctx, entry)


def update_object(ctx: Context, kind: str) -> GraphResponse:
    """``PATCH`` an application or service principal; 204."""
    entry = get_entry(ctx, kind, ctx.params["id"])
    plain, binds = split_binds(body_of(ctx))
    check_properties(kind, plain)
    if "displayName" in plain and not plain["displayName"]:
        raise GraphError(400, "Request_BadRequest",
                         "Property displayName value is required but is empty or missing.")
    links.apply_binds(ctx, entry, binds)
    if plain:
        ctx.directory.update(entry, plain)
    return no_content()


def delete_application(ctx: Context) -> GraphResponse:
    """Soft-delete an application and its service principal; 204."""
    app = get_entry(ctx, "applications", ctx.params["id"])
    now = ctx.clock.now()
    for principal in ctx.directory.find("servicePrincipals", "appId", str(app.data["appId"])):
        ctx.directory.soft_delete(principal, now)
    ctx.directory.soft_delete(app, now)
    return no_content()


def delete_service_principal(ctx: Context) -> GraphResponse:
    """Soft-delete a service principal; 204."""
    principal = get_entry(ctx, "servicePrincipals", ctx.params["id"])
    ctx.directory.soft_delete(principal, ctx.clock.now())
    return no_content()


def add_password(ctx: Context, kind: str) -> GraphResponse:
    """``addPassword``: a new client secret whose text is returned this once; 200."""
    entry = get_entry(ctx, kind, ctx.params["id"])
    body = body_of(ctx)
    wanted = body.get("passwordCredential") or {}
    if not isinstance(wanted, dict):
        raise GraphError(400, "BadRequest", "Invalid value for 'passwordCredential'.")
    now = ctx.clock.now()
    secret = "".join(secrets.choice(SECRET_ALPHABET) for _ in range(40))
    credential = {
        "customKeyIdentifier": None, "displayName": wanted.get("displayName"),
        "endDateTime": wanted.get("endDateTime") or iso(now + TWO_YEARS),
        "hint": secret[:3], "keyId": new_id(),
        "startDateTime": wanted.get("startDateTime") or iso(now), "secretText": None,
    }
    stored = list(entry.data.get("passwordCredentials") or [])
    ctx.directory.update(entry, {"passwordCredentials": [*stored, credential]})
    context = f"{ctx.request.base_url}/$metadata#microsoft.graph.passwordCredential"
    return GraphResponse(200, {"@odata.context": context, **credential, "secretText": secret})


def remove_password(ctx: Context, kind: str) -> GraphResponse:
    """``removePassword`` by ``keyId``; 204."""
    entry = get_entry(ctx, kind, ctx.params["id"])
    key_id = body_of(ctx).get("keyId")
    stored = list(entry.data.get("passwordCredentials") or [])
    kept = [c for c in stored if c.get("keyId") != key_id]
    if len(kept) == len(stored):
        raise GraphError(400, "Request_BadRequest",
                         f"No password credential found with keyId '{key_id}'.")
    ctx.directory.update(entry, {"passwordCredentials": kept})
    return no_content()
