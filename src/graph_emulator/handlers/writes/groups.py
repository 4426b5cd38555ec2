"""``POST /groups``, ``PATCH /groups/{id}``, ``DELETE /groups/{id}`` (group-post-groups,
group-update, group-delete). Only Microsoft 365 groups go to the recycle bin."""

from __future__ import annotations

from typing import Any

from graph_emulator.context import Context
from graph_emulator.handlers.collections import get_entry
from graph_emulator.model.directory import Entry
from graph_emulator.protocol import GraphError, GraphResponse

from . import guards, links
from .common import add_object, body_of, created, no_content, now_iso
from .validation import (
    check_properties,
    check_required,
    conflict,
    invalid_value,
    new_id,
    require_bool,
    split_binds,
)

REQUIRED = ("displayName", "mailEnabled", "mailNickname", "securityEnabled")
PATCH_ONLY = frozenset({
    "allowExternalSenders", "autoSubscribeNewMembers", "hideFromAddressLists",
    "hideFromOutlookClients", "isSubscribedByMail", "unseenCount",
})
"""Settable by a later PATCH only, never on create (group-post-groups)."""
CREATE_ONLY = frozenset({"isAssignableToRole"})
"""Settable only when the group is created (group resource: isAssignableToRole)."""
MAX_NICKNAME = 64

DEFAULTS: dict[str, Any] = {
    "description": None, "groupTypes": [], "classification": None, "mail": None,
    "membershipRule": None, "membershipRuleProcessingState": None, "visibility": None,
    "onPremisesSyncEnabled": None, "proxyAddresses": [], "resourceBehaviorOptions": [],
    "resourceProvisioningOptions": [], "securityIdentifier": None, "expirationDateTime": None,
    "preferredDataLocation": None, "theme": None, "isAssignableToRole": None,
}


def _check_kind_of_group(plain: dict[str, Any]) -> None:
    if guards.is_mail_enabled_security(plain):
        raise GraphError(400, "Request_BadRequest",
                         "The service does not currently support writes of mail-enabled groups. "
                         "Please ensure that the mail-enablement property is unset and the "
                         "security-enablement property is set.")
    nickname = plain.get("mailNickname")
    if not isinstance(nickname, str) or len(nickname) > MAX_NICKNAME or \
            not nickname.isascii() or any(c in nickname for c in ' @()\\[]";:<>,'):
        raise invalid_value("mailNickname", "groups")
    if guards.is_dynamic(plain) and not plain.get("membershipRule"):
        raise invalid_value("membershipRule", "groups")
    if plain.get("isAssignableToRole") is True and guards.is_dynamic(plain):
        raise invalid_value("isAssignableToRole", "groups")


def _check_nickname_free(ctx: Context, plain: dict[str, Any], own_id: str | None) -> None:
    # A Microsoft 365 group's nickname is its mail address, so it must be unique.
    if not guards.is_unified(plain):
        return
    for other in ctx.directory.find("groups", "mailNickname", str(plain["mailNickname"])):
        if other.id != own_id and guards.is_unified(other.data):
            raise conflict("mailNickname")


def _mail_fields(ctx: Context, plain: dict[str, Any]) -> dict[str, Any]:
    if not guards.is_unified(plain):
        return {}
    address = f"{plain['mailNickname']}@{ctx.tenant.initial_domain}"
    return {"mail": address, "proxyAddresses": [f"SMTP:{address}"],
            "renewedDateTime": now_iso(ctx)}


def create_group(ctx: Context) -> GraphResponse:
    """Create a security or Microsoft 365 group, with up to 20 owner/member binds; 201."""
    plain, binds = split_binds(body_of(ctx))
    check_properties("groups", plain, extra_read_only=PATCH_ONLY)
    check_required(plain, REQUIRED)
    for name in ("mailEnabled", "securityEnabled", "isAssignableToRole"):
        require_bool(plain, name, "groups")
    _check_kind_of_group(plain)
    if plain.get("isAssignableToRole") is True:
        ctx.require(guards.ROLE_PERMISSION)
    _check_nickname_free(ctx, plain, None)
    data = {**DEFAULTS, **plain, **_mail_fields(ctx, plain), "id": new_id(),
            "createdDateTime": now_iso(ctx), "deletedDateTime": None}
    if guards.is_unified(plain) and data.get("visibility") is None:
        data["visibility"] = "Public"
    plan = links.plan_binds(ctx, Entry("groups", data, 0, 0), binds, creating=True)
    entry = add_object(ctx, "groups", data)
    links.write_plan(ctx, entry, plan)
    return created(ctx, entry)


def _checked_update(ctx: Context, entry: Entry, plain: dict[str, Any]) -> None:
    check_properties("groups", plain, extra_read_only=CREATE_ONLY)
    merged = {**entry.data, **plain}
    if {"mailNickname", "groupTypes", "mailEnabled", "membershipRule"} & set(plain):
        _check_kind_of_group(merged)
        if "mailNickname" in plain:
            _check_nickname_free(ctx, merged, entry.id)


def update_group(ctx: Context) -> GraphResponse:
    """Change a group's properties and add ``members``/``owners`` binds; 204."""
    entry = get_entry(ctx, "groups", ctx.params["id"])
    plain, binds = split_binds(body_of(ctx))
    guards.check_group_writable(entry)
    guards.check_role_assignable(ctx, entry)
    _checked_update(ctx, entry, plain)
    links.apply_binds(ctx, entry, binds)
    if plain:
        ctx.directory.update(entry, plain)
    return no_content()


def delete_group(ctx: Context) -> GraphResponse:
    """Soft-delete a Microsoft 365 group; hard-delete any other group at once; 204."""
    entry = get_entry(ctx, "groups", ctx.params["id"])
    guards.check_group_writable(entry)
    guards.check_role_assignable(ctx, entry)
    if guards.is_unified(entry.data):
        ctx.directory.soft_delete(entry, ctx.clock.now())
    else:
        ctx.directory.hard_delete(entry)
    return no_content()
