"""Re-inviting a guest deleted for good, instead of creating a member user.

Graph creates external (guest) users only through the invitation API (graph-facts 5.3:
"External/guest users must be re-invited through the invitation API, not created").
``POST /invitations`` takes the address and a redirect URL and answers with
``invitedUser.id`` and the ``inviteRedeemUrl`` (invitation-post); the user it adds has the
``{mail with @ as _}#EXT#@{initial domain}`` user principal name, ``mail`` set and
``userType`` Guest. The stored document's other writable properties follow in one
``PATCH`` (:func:`guest_patch`), its licences and memberships as for any re-created user.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from entra_backup.domain.object_types import ObjectType

INVITATIONS_PATH = "/invitations"
INVITE_REDIRECT_URL = "https://myapps.microsoft.com"
"""Where a guest lands after redeeming (the My Apps portal: any tenant's guest can open it)."""
SET_BY_INVITATION = frozenset({
    "userPrincipalName", "mailNickname", "mail", "userType", "displayName",
    "passwordProfile", "identities",
})
"""What the invitation sets (or Graph derives from it), so the PATCH after leaves out."""


def is_guest(type_name: str, document: Mapping[str, Any]) -> bool:
    """Whether a stored object is a guest user (re-invited, not created)."""
    return type_name == "users" and document.get("userType") == "Guest"


def invited_address(document: Mapping[str, Any]) -> str | None:
    """The address a guest is invited at: its ``mail``, else its first other mail."""
    for value in (document.get("mail"), *(document.get("otherMails") or ())):
        if isinstance(value, str) and "@" in value:
            return value
    return None


def invitation(document: Mapping[str, Any], address: str, *, send: bool) -> dict[str, Any]:
    """The ``POST /invitations`` body of a stored guest."""
    body: dict[str, Any] = {"invitedUserEmailAddress": address,
                            "inviteRedirectUrl": INVITE_REDIRECT_URL,
                            "sendInvitationMessage": send, "invitedUserType": "Guest"}
    if isinstance(document.get("displayName"), str):
        body["invitedUserDisplayName"] = document["displayName"]
    return body


def guest_patch(object_type: ObjectType, document: Mapping[str, Any],
                left_out: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The stored properties PATCHed onto the invited user: writable on create, not set
    by the invitation, not relationships nor written through an action, not null."""
    skipped = (object_type.strip_on_create | SET_BY_INVITATION | left_out
               | {r.name for r in object_type.relationships}
               | {name for name, _ in object_type.property_actions})
    return {name: value for name, value in document.items()
            if "@" not in name and name not in skipped and value is not None}
