"""Group writes and membership links: binds, $ref, refusals, replication lag."""

from __future__ import annotations

from graph_emulator.handlers.writes import set_replication_lag
from tests.emulator._schema_check import check_object
from tests.emulator.writes.support import (
    OBJECT_URL,
    add_member,
    create,
    create_group,
    create_user,
    emulator,
    error,
    member_ids,
)


def test_security_group_create() -> None:
    p = emulator()
    body = create(p, "/groups", {"displayName": "Sales", "mailNickname": "sales",
                                 "mailEnabled": False, "securityEnabled": True})
    assert body["mail"] is None
    assert check_object("microsoft.graph.group", body) == []


def test_microsoft_365_group_gets_a_mail_address() -> None:
    p = emulator()
    group = create_group(p, "team", unified=True)
    assert p.get(f"/groups/{group}")["mail"] == "team@contoso.onmicrosoft.com"


def test_mail_enabled_security_groups_cannot_be_created() -> None:
    p = emulator()
    response = p.call("POST", "/groups", {"displayName": "DL", "mailNickname": "dl",
                                          "mailEnabled": True, "securityEnabled": True})
    assert response.status == 400
    assert "mail-enabled groups" in error(response)["message"]


def test_patch_only_properties_are_refused_on_create() -> None:
    p = emulator()
    response = p.call("POST", "/groups", {
        "displayName": "T", "mailNickname": "t", "mailEnabled": True, "securityEnabled": False,
        "groupTypes": ["Unified"], "autoSubscribeNewMembers": True})
    assert response.status == 400
    assert "autoSubscribeNewMembers" in error(response)["message"]


def test_create_with_binds_links_owners_and_members() -> None:
    p = emulator()
    users = [create_user(p, f"user{i}") for i in range(3)]
    body = create(p, "/groups", {
        "displayName": "G", "mailNickname": "g", "mailEnabled": False, "securityEnabled": True,
        "owners@odata.bind": [OBJECT_URL + users[0]],
        "members@odata.bind": [OBJECT_URL + u for u in users[1:]]})
    assert member_ids(p, body["id"]) == users[1:]
    owners = p.get(f"/groups/{body['id']}/owners")["value"]
    assert [o["id"] for o in owners] == users[:1]


def test_more_than_twenty_link_changes_are_refused() -> None:
    p = emulator()
    users = [create_user(p, f"user{i}") for i in range(21)]
    group = create_group(p, "g")
    response = p.call("PATCH", f"/groups/{group}",
                      {"members@odata.bind": [OBJECT_URL + u for u in users]})
    assert response.status == 400
    assert "20 link changes" in error(response)["message"]
    assert member_ids(p, group) == []


def test_one_bad_bind_adds_nothing() -> None:
    p = emulator()
    good = create_user(p, "adele")
    group = create_group(p, "g")
    response = p.call("PATCH", f"/groups/{group}", {"members@odata.bind": [
        OBJECT_URL + good, OBJECT_URL + "00000000-0000-4000-8000-00000000dead"]})
    assert response.status == 404
    assert error(response)["code"] == "Request_ResourceNotFound"
    assert member_ids(p, group) == []


def test_ref_add_and_remove() -> None:
    p = emulator()
    user = create_user(p, "adele")
    group = create_group(p, "g")
    assert add_member(p, group, user).status == 204
    assert member_ids(p, group) == [user]
    again = add_member(p, group, user)
    assert again.status == 400
    assert error(again)["message"] == ("One or more added object references already exist for "
                                       "the following modified properties: 'members'.")
    assert p.call("DELETE", f"/groups/{group}/members/{user}/$ref").status == 204
    assert member_ids(p, group) == []
    assert p.call("DELETE", f"/groups/{group}/members/{user}/$ref").status == 404


def test_microsoft_365_groups_take_only_users() -> None:
    p = emulator()
    team = create_group(p, "team", unified=True)
    other = create_group(p, "other")
    assert add_member(p, team, other).status == 400
    assert add_member(p, other, team).status == 204


def test_mail_enabled_security_group_membership_is_read_only() -> None:
    p = emulator()
    user = create_user(p, "adele")
    p.loader.add("groups", {"id": "dl-1", "displayName": "DL", "mailEnabled": True,
                            "securityEnabled": True, "groupTypes": []})
    response = add_member(p, "dl-1", user)
    assert response.status == 400
    assert error(response)["message"] == \
        "Cannot Update a mail-enabled security groups and or distribution list."


def test_synced_and_dynamic_groups_refuse_member_changes() -> None:
    p = emulator()
    user = create_user(p, "adele")
    p.loader.add("groups", {"id": "synced-1", "displayName": "S", "mailEnabled": False,
                            "securityEnabled": True, "onPremisesSyncEnabled": True})
    p.loader.add("groups", {"id": "dyn-1", "displayName": "D", "mailEnabled": False,
                            "securityEnabled": True, "groupTypes": ["DynamicMembership"],
                            "membershipRule": "user.department -eq \"Sales\""})
    synced = add_member(p, "synced-1", user)
    assert "on-premises mastered" in error(synced)["message"]
    assert add_member(p, "dyn-1", user).status == 400


def test_role_assignable_groups_need_role_management_permission() -> None:
    p = emulator()
    user = create_user(p, "adele")
    group = create_group(p, "admins", isAssignableToRole=True)
    p.auth.caller.roles = frozenset({"GroupMember.ReadWrite.All"})
    assert add_member(p, group, user).status == 403
    p.auth.caller.roles = frozenset({"GroupMember.ReadWrite.All",
                                     "RoleManagement.ReadWrite.Directory"})
    assert add_member(p, group, user).status == 204


def test_replication_lag_refuses_members_right_after_creation() -> None:
    p = emulator()
    user = create_user(p, "adele")
    p.emulator.clock.advance(60)
    set_replication_lag(p.emulator, 5)
    group = create_group(p, "g")
    early = add_member(p, group, user)
    assert early.status == 400
    assert error(early)["message"] == \
        "The source resource object or one of the objects being referenced do not exist"
    p.emulator.clock.advance(5)
    assert add_member(p, group, user).status == 204


def test_security_groups_are_hard_deleted_and_m365_groups_soft_deleted() -> None:
    p = emulator()
    security = create_group(p, "sec")
    team = create_group(p, "team", unified=True)
    assert p.call("DELETE", f"/groups/{security}").status == 204
    assert p.call("DELETE", f"/groups/{team}").status == 204
    deleted = p.get("/directory/deletedItems/microsoft.graph.group")["value"]
    assert [g["id"] for g in deleted] == [team]
    assert p.call("POST", f"/directory/deletedItems/{security}/restore").status == 404


def test_manager_put_and_delete() -> None:
    p = emulator()
    user = create_user(p, "adele")
    boss = create_user(p, "bianca")
    response = p.call("PUT", f"/users/{user}/manager/$ref",
                      {"@odata.id": f"https://graph.microsoft.com/v1.0/users/{boss}"})
    assert response.status == 204
    assert p.get(f"/users/{user}/manager")["id"] == boss
    assert p.call("DELETE", f"/users/{user}/manager/$ref").status == 204
    assert p.call("GET", f"/users/{user}/manager").status == 404
    assert p.call("DELETE", f"/users/{user}/manager/$ref").status == 404


def test_owner_and_device_and_role_and_unit_links() -> None:
    p = emulator()
    user = create_user(p, "adele")
    app = create(p, "/applications", {"displayName": "App"})["id"]
    unit = create(p, "/directory/administrativeUnits", {"displayName": "AU"})["id"]
    p.loader.add("devices", {"id": "dev-1", "displayName": "Laptop"})
    p.loader.add("directoryRoles", {"id": "role-1", "displayName": "Reader"})
    ref = {"@odata.id": OBJECT_URL + user}
    for url in (f"/applications/{app}/owners/$ref", f"/directory/administrativeUnits/{unit}"
                "/members/$ref", "/devices/dev-1/registeredOwners/$ref",
                "/devices/dev-1/registeredUsers/$ref", "/directoryRoles/role-1/members/$ref"):
        assert p.call("POST", url, ref).status == 204, url
    assert [o["id"] for o in p.get("/devices/dev-1/registeredOwners")["value"]] == [user]
    assert [m["id"] for m in p.get("/directoryRoles/role-1/members")["value"]] == [user]
