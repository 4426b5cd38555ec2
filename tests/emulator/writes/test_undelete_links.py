"""What an undelete brings back: the links Microsoft documents as kept (group and role
memberships of a user, a Microsoft 365 group's members), and nothing it is silent about
(a manager, direct reports, owners, administrative unit membership)."""

from __future__ import annotations

from tests.emulator.writes.support import (
    OBJECT_URL,
    add_member,
    create,
    create_group,
    create_user,
    emulator,
    member_ids,
)


def _ids(p, url: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [o["id"] for o in p.get(url)["value"]]


def test_a_user_keeps_memberships_and_roles_but_not_manager_owners_or_units() -> None:
    p = emulator()
    user, boss, report = (create_user(p, n) for n in ("adele", "boss", "report"))
    group = create_group(p, "g")
    owned = create_group(p, "owned")
    unit = create(p, "/directory/administrativeUnits", {"displayName": "AU"})["id"]
    p.loader.add("directoryRoles", {"id": "role-1", "displayName": "Reader"})
    ref = {"@odata.id": OBJECT_URL + user}
    add_member(p, group, user)
    for url in (f"/groups/{owned}/owners/$ref", f"/directory/administrativeUnits/{unit}"
                "/members/$ref", "/directoryRoles/role-1/members/$ref"):
        assert p.call("POST", url, ref).status == 204, url
    assert p.call("PUT", f"/users/{user}/manager/$ref",
                  {"@odata.id": OBJECT_URL + boss}).status == 204
    assert p.call("PUT", f"/users/{report}/manager/$ref", ref).status == 204

    p.call("DELETE", f"/users/{user}")
    assert p.call("POST", f"/directory/deletedItems/{user}/restore").status == 200

    assert member_ids(p, group) == [user]
    assert _ids(p, "/directoryRoles/role-1/members") == [user]
    assert p.call("GET", f"/users/{user}/manager").status == 404
    assert p.call("GET", f"/users/{report}/manager").status == 404
    assert _ids(p, f"/groups/{owned}/owners") == []
    assert _ids(p, f"/directory/administrativeUnits/{unit}/members") == []


def test_a_microsoft_365_group_keeps_its_members_but_not_its_owners() -> None:
    p = emulator()
    member, owner = create_user(p, "member"), create_user(p, "owner")
    group = create_group(p, "team", unified=True)
    add_member(p, group, member)
    assert p.call("POST", f"/groups/{group}/owners/$ref",
                  {"@odata.id": OBJECT_URL + owner}).status == 204

    p.call("DELETE", f"/groups/{group}")
    assert p.call("POST", f"/directory/deletedItems/{group}/restore").status == 200

    assert member_ids(p, group) == [member]
    assert _ids(p, f"/groups/{group}/owners") == []


def test_an_application_comes_back_without_its_owners() -> None:
    p = emulator()
    owner = create_user(p, "owner")
    app = create(p, "/applications", {"displayName": "App"})["id"]
    assert p.call("POST", f"/applications/{app}/owners/$ref",
                  {"@odata.id": OBJECT_URL + owner}).status == 204

    p.call("DELETE", f"/applications/{app}")
    assert p.call("POST", f"/directory/deletedItems/{app}/restore").status == 200

    assert p.get(f"/applications/{app}")["id"] == app
    assert _ids(p, f"/applications/{app}/owners") == []


def test_memberships_removed_before_the_deletion_stay_removed() -> None:
    p = emulator()
    user = create_user(p, "adele")
    kept, left = create_group(p, "kept"), create_group(p, "left")
    add_member(p, kept, user)
    add_member(p, left, user)
    assert p.call("DELETE", f"/groups/{left}/members/{user}/$ref").status == 204

    p.call("DELETE", f"/users/{user}")
    p.call("POST", f"/directory/deletedItems/{user}/restore")

    assert member_ids(p, kept) == [user]
    assert member_ids(p, left) == []


def test_get_directory_object_by_id_before_and_after_an_undelete() -> None:
    p = emulator()
    user = create_user(p, "adele")
    one = p.call("GET", f"/directoryObjects/{user}?$select=displayName")
    assert one.status == 200
    assert one.body["@odata.type"] == "#microsoft.graph.user"
    assert one.body["displayName"] == "Adele"
    assert "$metadata#directoryObjects" in one.body["@odata.context"]
    p.call("DELETE", f"/users/{user}")
    assert p.call("GET", f"/directoryObjects/{user}").status == 404
    p.call("POST", f"/directory/deletedItems/{user}/restore")
    assert p.call("GET", f"/directoryObjects/{user}").body["id"] == user
