"""``POST /users``, ``PATCH /users/{id}``, ``DELETE /users/{id}`` (user-post-users,
user-update, user-delete)."""

from __future__ import annotations

from typing import Any

from graph_emulator.context import Context
from graph_emulator.handlers.collections import get_entry
from graph_emulator.model.directory import Entry
from graph_emulator.protocol import GraphError, GraphResponse

from . import guards, links
from .common import add_object, body_of, created, no_content, now_iso
from .validation import (
    check_password,
    check_properties,
    check_required,
    conflict,
    new_id,
    require_bool,
    split_binds,
)

REQUIRED = ("accountEnabled", "displayName", "mailNickname", "passwordProfile",
            "userPrincipalName")
SYNCED_WRITABLE = frozenset({"usageLocation", "preferredDataLocation"})
"""Cloud-only properties a synced user still takes (the rest AD Connect masters)."""

DEFAULTS: dict[str, Any] = {
    "businessPhones": [], "givenName": None, "surname": None, "jobTitle": None, "mail": None,
    "mobilePhone": None, "officeLocation": None, "preferredLanguage": None,
    "userType": "Member", "creationType": None, "onPremisesSyncEnabled": None,
    "onPremisesImmutableId": None, "proxyAddresses": [], "assignedLicenses": [],
    "otherMails": [], "identities": [],
}


def _check_upn(ctx: Context, upn: Any, own_id: str | None) -> None:
    if not isinstance(upn, str) or upn.count("@") != 1 or upn.startswith("@"):
        raise GraphError(400, "Request_BadRequest",
                         "Invalid value specified for property 'userPrincipalName' of resource "
                         "'User'.", details=[{"code": "InvalidValue",
                                              "target": "userPrincipalName"}])
    if upn.split("@", 1)[1].lower() not in ctx.tenant.verified_domains():
        raise GraphError(400, "Request_BadRequest",
                         "The domain portion of the userPrincipalName property is invalid. You "
                         "must use one of the verified domain names in your organization.",
                         details=[{"code": "InvalidValue", "target": "userPrincipalName"}])
    if any(e.id != own_id for e in ctx.directory.find("users", "userPrincipalName", upn)):
        raise conflict("userPrincipalName")


def _password_profile(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise GraphError(400, "Request_BadRequest", "Invalid value specified for property "
                         "'passwordProfile' of resource 'User'.")
    check_password(value.get("password"))
    # The password is write-only: Graph never returns it.
    return {**value, "password": None}


def create_user(ctx: Context) -> GraphResponse:
    """Create a member user; 201 with the new user."""
    plain, binds = split_binds(body_of(ctx))
    check_properties("users", plain)
    check_required(plain, REQUIRED)
    require_bool(plain, "accountEnabled", "users")
    _check_upn(ctx, plain["userPrincipalName"], None)
    data = {**DEFAULTS, **plain, "id": new_id(), "createdDateTime": now_iso(ctx),
            "deletedDateTime": None,
            "passwordProfile": _password_profile(plain["passwordProfile"])}
    plan = links.plan_binds(ctx, Entry("users", data, 0, 0), binds, creating=True)
    entry = add_object(ctx, "users", data)
    links.write_plan(ctx, entry, plan)
    return created(ctx, entry)


def _check_synced_update(entry: Entry, changes: dict[str, Any]) -> None:
    if guards.is_synced(entry.data) and set(changes) - SYNCED_WRITABLE:
        raise GraphError(400, "Request_BadRequest", guards.SYNCED_MESSAGE)


def update_user(ctx: Context) -> GraphResponse:
    """Change a user's properties; 204."""
    entry = get_entry(ctx, "users", ctx.params["id"])
    plain, binds = split_binds(body_of(ctx))
    check_properties("users", plain)
    require_bool(plain, "accountEnabled", "users")
    _check_synced_update(entry, {**plain, **binds})
    if "userPrincipalName" in plain:
        _check_upn(ctx, plain["userPrincipalName"], entry.id)
    if "passwordProfile" in plain:
        plain["passwordProfile"] = _password_profile(plain["passwordProfile"])
    for name in ("displayName", "mailNickname"):
        if name in plain and not plain[name]:
            raise GraphError(400, "Request_BadRequest",
                             f"Invalid value specified for property '{name}' of resource 'User'.")
    links.apply_binds(ctx, entry, binds)
    if plain:
        ctx.directory.update(entry, plain)
    return no_content()


def delete_user(ctx: Context) -> GraphResponse:
    """Move a user to the recycle bin (30 days); memberships are kept there; 204."""
    entry = get_entry(ctx, "users", ctx.params["id"])
    guards.check_not_synced(entry)
    ctx.directory.soft_delete(entry, ctx.clock.now())
    return no_content()
