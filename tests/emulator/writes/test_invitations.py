"""``POST /invitations`` answers as Graph does and adds a guest who has not redeemed yet.

The answer's shape is the documentation example of invitation-post (``201``,
``$metadata#invitations/$entity``, the invitation's properties with ``invitedUser``); its
properties are those of the ``invitation`` entity of the v1.0 CSDL.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from tests.emulator.writes.support import DOMAIN, create_group, emulator, error, member_ids

INVITATION = {
    "id", "invitedUserDisplayName", "invitedUserEmailAddress", "invitedUserMessageInfo",
    "invitedUserType", "inviteRedeemUrl", "inviteRedirectUrl", "resetRedemption",
    "sendInvitationMessage", "status",
}
"""The structural properties of ``invitation`` in the v1.0 CSDL (``invitedUser`` is its
navigation property, which the answer carries as the documentation example shows)."""
REDIRECT = "https://myapps.microsoft.com"


def invite(**body: Any) -> dict[str, Any]:
    return {"invitedUserEmailAddress": "ada@fabrikam.example", "inviteRedirectUrl": REDIRECT,
            **body}


def test_an_invitation_answers_201_with_the_documented_shape() -> None:
    p = emulator()
    response = p.call("POST", "/invitations", invite(invitedUserDisplayName="Ada Lovelace"))
    assert response.status == 201, response.body
    body = response.body
    assert body["@odata.context"].endswith("/$metadata#invitations/$entity")
    assert set(body) - {"@odata.context"} == INVITATION | {"invitedUser"}
    assert (body["status"], body["invitedUserType"], body["sendInvitationMessage"],
            body["resetRedemption"]) == ("PendingAcceptance", "Guest", False, False)
    assert body["invitedUserEmailAddress"] == "ada@fabrikam.example"
    assert body["inviteRedirectUrl"] == REDIRECT
    assert body["inviteRedeemUrl"].startswith("https://login.microsoftonline.com/redeem?rd=")
    assert body["invitedUser"]["id"] in unquote(body["inviteRedeemUrl"])
    assert len(body["id"]) == 36 and body["id"] != body["invitedUser"]["id"]


def test_the_invited_user_is_a_guest_pending_acceptance() -> None:
    p = emulator()
    invited = p.call("POST", "/invitations",
                     invite(invitedUserDisplayName="Ada Lovelace")).body["invitedUser"]["id"]
    user = p.get(f"/users/{invited}?$select=id,displayName,mail,userPrincipalName,userType,"
                 "externalUserState,creationType,accountEnabled,otherMails")
    assert user["userPrincipalName"] == f"ada_fabrikam.example#EXT#@{DOMAIN}"
    assert (user["userType"], user["externalUserState"], user["creationType"]) == \
        ("Guest", "PendingAcceptance", "Invitation")
    assert (user["mail"], user["displayName"], user["accountEnabled"]) == \
        ("ada@fabrikam.example", "Ada Lovelace", True)
    assert user["otherMails"] == ["ada@fabrikam.example"]
    # A guest is a user like any other: it can be updated and made a member.
    assert p.call("PATCH", f"/users/{invited}", {"jobTitle": "Analyst"}).status == 204
    group = create_group(p, "partners")
    assert p.call("POST", f"/groups/{group}/members/$ref", {
        "@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{invited}"}
    ).status == 204
    assert member_ids(p, group) == [invited]


def test_a_member_invitation_and_a_message_are_echoed() -> None:
    p = emulator()
    body = p.call("POST", "/invitations", invite(
        invitedUserType="Member", sendInvitationMessage=True,
        invitedUserMessageInfo={"customizedMessageBody": "Welcome back"})).body
    assert (body["invitedUserType"], body["sendInvitationMessage"]) == ("Member", True)
    assert body["invitedUserMessageInfo"]["customizedMessageBody"] == "Welcome back"
    user = p.get(f"/users/{body['invitedUser']['id']}?$select=userType")
    assert user["userType"] == "Member"


def test_inviting_the_same_address_again_names_the_same_user() -> None:
    p = emulator()
    first = p.call("POST", "/invitations", invite()).body["invitedUser"]["id"]
    again = p.call("POST", "/invitations", invite()).body["invitedUser"]["id"]
    assert first == again
    guests = p.get("/users?$filter=userType eq 'Guest'&$select=id")["value"]
    assert [g["id"] for g in guests] == [first]


def test_bad_invitations_are_refused() -> None:
    p = emulator()
    missing = p.call("POST", "/invitations", {"invitedUserEmailAddress": "ada@fabrikam.example"})
    assert missing.status == 400
    assert "inviteRedirectUrl" in error(missing)["message"]
    assert p.call("POST", "/invitations", invite(invitedUserEmailAddress="ada")).status == 400
    assert p.call("POST", "/invitations", invite(invitedUserType="Owner")).status == 400
    unknown = p.call("POST", "/invitations", invite(userType="Guest"))
    assert unknown.status == 400
    assert error(unknown)["message"] == "Invalid property 'userType'."
    assert p.get("/users?$select=id")["value"] == [], "nothing was created"


def test_an_invitation_needs_an_invite_permission() -> None:
    p = emulator()
    p.auth.caller.roles = frozenset({"User.Read.All"})
    assert p.call("POST", "/invitations", invite()).status == 403
    p.auth.caller.roles = frozenset({"User.Invite.All"})
    assert p.call("POST", "/invitations", invite()).status == 201
