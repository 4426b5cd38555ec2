"""Conditional Access policies and named locations, the authorization policy and group
settings (conditionalaccessroot-post-policies, conditionalaccesspolicy-update,
conditionalaccessroot-post-namedlocations, authorizationpolicy-update,
group-post-settings)."""

from __future__ import annotations

from typing import Any

from graph_emulator.context import Context
from graph_emulator.handlers.collections import get_entry
from graph_emulator.protocol import GraphError, GraphResponse, not_found

from .common import add_object, body_of, created, no_content, now_iso
from .validation import check_properties, check_required, new_id

STATES = ("enabled", "disabled", "enabledForReportingButNotEnforced")
LOCATION_TYPES = {
    "#microsoft.graph.ipNamedLocation": "ipRanges",
    "#microsoft.graph.countryNamedLocation": "countriesAndRegions",
}


class PolicyError(GraphError):
    """The Conditional Access service's 400: a generic message, the reason in innerError."""

    def __init__(self, reason: str) -> None:
        super().__init__(400, "BadRequest",
                         "The server could not process the request because it is malformed or "
                         "incorrect.")
        self.reason = reason

    def body(self, *, date: str, request_id: str, client_request_id: str) -> dict[str, Any]:
        rendered = super().body(date=date, request_id=request_id,
                                client_request_id=client_request_id)
        rendered["error"]["innerError"] = {"message": self.reason,
                                           **rendered["error"]["innerError"]}
        return rendered


def _non_empty(section: Any, names: tuple[str, ...]) -> bool:
    return isinstance(section, dict) and any(section.get(name) for name in names)


def check_policy(policy: dict[str, Any]) -> None:
    """A policy needs a user rule, an application rule, and grant or session controls."""
    if policy.get("state") not in STATES:
        raise PolicyError(f"'state' must be one of {', '.join(STATES)}.")
    conditions = policy.get("conditions")
    if not isinstance(conditions, dict):
        raise PolicyError("Incoming ConditionalAccessPolicy object is null or does not match "
                          "the schema of ConditionalAccessPolicy type.")
    if not _non_empty(conditions.get("users"), (
            "includeUsers", "includeGroups", "includeRoles", "includeGuestsOrExternalUsers")):
        raise PolicyError("The policy must include users, groups, roles or guests in "
                          "'conditions.users'.")
    if not _non_empty(conditions.get("applications"), (
            "includeApplications", "includeUserActions",
            "includeAuthenticationContextClassReferences")):
        raise PolicyError("The policy must include applications, user actions or "
                          "authentication contexts in 'conditions.applications'.")
    if conditions.get("clientAppTypes") == []:
        raise PolicyError("'clientAppTypes' condition does not support []. To target all "
                          "client apps, use ['all'].")
    if not policy.get("grantControls") and not policy.get("sessionControls"):
        raise PolicyError("The policy must have grant controls or session controls.")


def create_policy(ctx: Context) -> GraphResponse:
    """``POST /identity/conditionalAccess/policies``; 201."""
    body = body_of(ctx)
    check_properties("conditionalAccessPolicies", body)
    check_required(body, ("displayName",))
    policy = {"templateId": None, "grantControls": None, "sessionControls": None, **body}
    check_policy(policy)
    entry = add_object(ctx, "conditionalAccessPolicies", {
        **policy, "id": new_id(), "createdDateTime": now_iso(ctx), "modifiedDateTime": None})
    return created(ctx, entry, "identity/conditionalAccess/policies/$entity")


def update_policy(ctx: Context) -> GraphResponse:
    """``PATCH`` a policy; the result must still be a valid policy; 204."""
    entry = get_entry(ctx, "conditionalAccessPolicies", ctx.params["id"])
    body = body_of(ctx)
    check_properties("conditionalAccessPolicies", body)
    check_policy({**entry.data, **body})
    ctx.directory.update(entry, {**body, "modifiedDateTime": now_iso(ctx)})
    return no_content()


def _check_location(body: dict[str, Any]) -> None:
    list_name = LOCATION_TYPES.get(str(body.get("@odata.type", "")))
    if list_name is None:
        raise PolicyError("'@odata.type' must be #microsoft.graph.ipNamedLocation or "
                          "#microsoft.graph.countryNamedLocation.")
    if not body.get(list_name):
        raise PolicyError(f"'{list_name}' must not be empty.")


def create_location(ctx: Context) -> GraphResponse:
    """``POST /identity/conditionalAccess/namedLocations``; 201."""
    body = body_of(ctx)
    check_properties("namedLocations", body, odata_type=body.get("@odata.type"))
    check_required(body, ("displayName",))
    _check_location(body)
    stamp = now_iso(ctx)
    entry = add_object(ctx, "namedLocations", {
        **body, "id": new_id(), "createdDateTime": stamp, "modifiedDateTime": stamp})
    return created(ctx, entry, "identity/conditionalAccess/namedLocations/$entity")


def update_location(ctx: Context) -> GraphResponse:
    """``PATCH`` a named location (its ``@odata.type`` is required and cannot change); 204."""
    entry = get_entry(ctx, "namedLocations", ctx.params["id"])
    body = body_of(ctx)
    check_properties("namedLocations", body)
    if body.get("@odata.type") != entry.data.get("@odata.type"):
        raise PolicyError("'@odata.type' is required and must match the named location.")
    _check_location({**entry.data, **body})
    ctx.directory.update(entry, {**body, "modifiedDateTime": now_iso(ctx)})
    return no_content()


def delete_policy_object(ctx: Context, kind: str) -> GraphResponse:
    """``DELETE`` a policy or named location; 204."""
    ctx.directory.hard_delete(get_entry(ctx, kind, ctx.params["id"]))
    return no_content()


def update_authorization_policy(ctx: Context) -> GraphResponse:
    """``PATCH /policies/authorizationPolicy``; 204."""
    entry = next(ctx.directory.entries("authorizationPolicy"), None)
    if entry is None:
        raise not_found("authorizationPolicy")
    body = body_of(ctx)
    check_properties("authorizationPolicy", body)
    if body:
        ctx.directory.update(entry, body)
    return no_content()


def create_setting(ctx: Context) -> GraphResponse:
    """``POST /groupSettings`` from a template; 201."""
    body = body_of(ctx)
    check_properties("groupSettings", body)
    check_required(body, ("templateId",))
    if any(e.data.get("templateId") == body["templateId"]
           for e in ctx.directory.entries("groupSettings")):
        raise GraphError(400, "Request_BadRequest",
                         "A conflicting object with one or more of the specified property values "
                         "is present in the directory.")
    entry = add_object(ctx, "groupSettings", {
        "displayName": None, "values": [], **body, "id": new_id()})
    return created(ctx, entry)


def update_setting(ctx: Context) -> GraphResponse:
    """``PATCH /groupSettings/{id}`` (``values``); 204."""
    entry = get_entry(ctx, "groupSettings", ctx.params["id"])
    body = body_of(ctx)
    check_properties("groupSettings", body, extra_read_only=("templateId",))
    if body:
        ctx.directory.update(entry, body)
    return no_content()
