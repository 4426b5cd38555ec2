"""``POST /invitations``: invite an external user, who becomes a guest of the tenant
(invitation-post; the ``invitation`` entity of the v1.0 CSDL).

The answer is the invitation (``201``, ``$metadata#invitations/$entity``) with the
``invitedUser`` it created and the ``inviteRedeemUrl`` the user redeems. The user is added
at once, in the state Entra ID gives an invited guest before redemption: ``userType`` as
invited (``Guest`` by default), ``externalUserState`` ``PendingAcceptance``,
``creationType`` ``Invitation``, ``mail`` the invited address, and the
``{mail with @ as _}#EXT#@{initial domain}`` user principal name. Invitations themselves
are not kept: the entity set is not indexable by key (CSDL annotation), so there is no
``GET /invitations/{id}``. Sources: ``docs/emulator-writes.md``.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from graph_emulator.context import Context
from graph_emulator.handlers.render import context_url
from graph_emulator.protocol import GraphError, GraphResponse

from .common import add_object, body_of, now_iso
from .users import DEFAULTS
from .validation import check_required, new_id

PERMISSIONS = ("User.Invite.All", "User.ReadWrite.All", "Directory.ReadWrite.All")
"""Application permissions that allow an invitation (invitation-post)."""
PROPERTIES = frozenset({
    "invitedUserDisplayName", "invitedUserEmailAddress", "invitedUserMessageInfo",
    "invitedUserType", "inviteRedirectUrl", "resetRedemption", "sendInvitationMessage",
    "invitedUserSponsors",
})
"""What a caller may send: the invitation's properties of the CSDL, less the read-only
``id``, ``inviteRedeemUrl``, ``status`` and ``invitedUser``."""
REQUIRED = ("invitedUserEmailAddress", "inviteRedirectUrl")
"""The two properties the CSDL declares ``Nullable="false"``."""
USER_TYPES = ("Guest", "Member")
MAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _checked(body: dict[str, Any]) -> dict[str, Any]:
    for name in body:
        if name not in PROPERTIES:
            raise GraphError(400, "Request_BadRequest", f"Invalid property '{name}'.")
    check_required(body, REQUIRED)
    address = body["invitedUserEmailAddress"]
    if not isinstance(address, str) or not MAIL.match(address):
        raise GraphError(400, "BadRequest", "The invited user email address is invalid.")
    if body.get("invitedUserType", "Guest") not in USER_TYPES:
        raise GraphError(400, "BadRequest",
                         "invitedUserType must be either 'Guest' or 'Member'.")
    for name in ("sendInvitationMessage", "resetRedemption"):
        if not isinstance(body.get(name, False), bool):
            raise GraphError(400, "BadRequest", f"Invalid value for property '{name}'.")
    return body


def _guest_upn(ctx: Context, address: str) -> str:
    return f"{address.replace('@', '_')}#EXT#@{ctx.tenant.initial_domain}"


def _invited_user(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """The user an invitation adds: a guest who has not redeemed it yet."""
    address = str(body["invitedUserEmailAddress"])
    external = f"{address.replace('@', '_')}#EXT#"
    stamp = now_iso(ctx)
    return {
        **DEFAULTS, "id": new_id(), "createdDateTime": stamp, "deletedDateTime": None,
        "accountEnabled": True,
        "displayName": body.get("invitedUserDisplayName") or address.partition("@")[0],
        "mail": address, "mailNickname": external, "otherMails": [address],
        "proxyAddresses": [f"SMTP:{address}"],
        "userPrincipalName": _guest_upn(ctx, address),
        "userType": body.get("invitedUserType") or "Guest", "creationType": "Invitation",
        "externalUserState": "PendingAcceptance",
        "externalUserStateChangeDateTime": stamp,
    }


def _redeem_url(ctx: Context, user_id: str) -> str:
    target = (f"https://invitations.microsoft.com/redeem/?tenant={ctx.tenant.tenant_id}"
              f"&user={user_id}&ticket={new_id()}&ver=2.0")
    return f"https://login.microsoftonline.com/redeem?rd={quote(target, safe='')}"


def invite(ctx: Context) -> GraphResponse:
    """Invite an external user: ``201`` with the invitation and the new guest's id."""
    body = _checked(body_of(ctx))
    address = str(body["invitedUserEmailAddress"])
    # Inviting an address that is a user of the tenant already invites that user again
    # (unverified): its guest user principal name finds it.
    taken = ctx.directory.find("users", "userPrincipalName", _guest_upn(ctx, address))
    user = taken[0] if taken else add_object(ctx, "users", _invited_user(ctx, body))
    message = body.get("invitedUserMessageInfo") or {}
    return GraphResponse(201, {
        "@odata.context": context_url(ctx.request, "invitations/$entity"),
        "id": new_id(),
        "inviteRedeemUrl": _redeem_url(ctx, user.id),
        "invitedUserDisplayName": body.get("invitedUserDisplayName"),
        "invitedUserType": user.data.get("userType"),
        "invitedUserEmailAddress": address,
        "sendInvitationMessage": bool(body.get("sendInvitationMessage", False)),
        "resetRedemption": bool(body.get("resetRedemption", False)),
        "inviteRedirectUrl": body["inviteRedirectUrl"],
        "status": "PendingAcceptance",
        "invitedUserMessageInfo": {
            "messageLanguage": message.get("messageLanguage"),
            "customizedMessageBody": message.get("customizedMessageBody"),
            "ccRecipients": message.get("ccRecipients") or []},
        "invitedUser": {"id": user.id},
    })
