"""The recycle bin: list, get, count, restore with links, permanent delete, 30-day purge."""

from __future__ import annotations

from graph_emulator.handlers.writes import purge_expired
from tests.emulator.writes.support import (
    DOMAIN,
    add_member,
    create,
    create_group,
    create_user,
    emulator,
    error,
    member_ids,
    user_body,
)

EVENTUAL = {"ConsistencyLevel": "eventual"}
DAY = 86400.0


def test_list_get_and_count() -> None:
    p = emulator()
    users = [create_user(p, f"user{i}") for i in range(3)]
    for user in users[:2]:
        p.call("DELETE", f"/users/{user}")
    listed = p.get("/directory/deletedItems/microsoft.graph.user?$select=id,displayName,"
                   "deletedDateTime")
    assert listed["@odata.context"].endswith("$metadata#users(displayName,deletedDateTime)")
    assert sorted(u["id"] for u in listed["value"]) == sorted(users[:2])
    assert all(u["deletedDateTime"].endswith("Z") for u in listed["value"])
    count = p.call("GET", "/directory/deletedItems/microsoft.graph.user/$count", headers=EVENTUAL)
    assert count.body == 2
    one = p.get(f"/directory/deletedItems/{users[0]}")
    assert one["@odata.type"] == "#microsoft.graph.user"
    assert p.call("GET", f"/directory/deletedItems/{users[2]}").status == 404


def test_paging_and_order() -> None:
    p = emulator()
    users = [create_user(p, f"user{i}") for i in range(5)]
    for user in users:
        p.call("DELETE", f"/users/{user}")
        p.emulator.clock.advance(1)
    first = p.get("/directory/deletedItems/microsoft.graph.user?$top=2"
                  "&$orderby=deletedDateTime desc")
    assert [u["id"] for u in first["value"]] == users[:-3:-1]
    link = first["@odata.nextLink"].removeprefix("https://graph.example/v1.0")
    assert len(p.get(link)["value"]) == 2


def test_restore_keeps_id_and_memberships() -> None:
    p = emulator()
    user = create_user(p, "adele")
    group = create_group(p, "g")
    add_member(p, group, user)
    p.call("DELETE", f"/users/{user}")
    assert member_ids(p, group) == []
    restored = p.call("POST", f"/directory/deletedItems/{user}/restore")
    assert restored.status == 200
    assert restored.body["id"] == user
    assert restored.body["@odata.context"].endswith("$metadata#directoryObjects/$entity")
    assert member_ids(p, group) == [user]
    assert p.get(f"/users/{user}")["id"] == user


def test_restore_refuses_a_taken_upn() -> None:
    p = emulator()
    user = create_user(p, "adele")
    p.call("DELETE", f"/users/{user}")
    create(p, "/users", user_body("adele2", userPrincipalName=f"adele@{DOMAIN}"))
    response = p.call("POST", f"/directory/deletedItems/{user}/restore")
    assert response.status == 400
    assert error(response)["details"][0]["code"] == "ObjectConflict"


def test_permanent_delete_drops_links_and_refuses_units() -> None:
    p = emulator()
    user = create_user(p, "adele")
    group = create_group(p, "g")
    add_member(p, group, user)
    p.call("DELETE", f"/users/{user}")
    assert p.call("DELETE", f"/directory/deletedItems/{user}").status == 204
    assert p.call("POST", f"/directory/deletedItems/{user}/restore").status == 404
    assert p.tenant.directory.targets("members", group, live_only=False) == []
    unit = create(p, "/directory/administrativeUnits", {"displayName": "AU"})["id"]
    p.call("DELETE", f"/directory/administrativeUnits/{unit}")
    assert p.call("DELETE", f"/directory/deletedItems/{unit}").status == 400
    assert [u["id"] for u in p.get(
        "/directory/deletedItems/microsoft.graph.administrativeUnit")["value"]] == [unit]


def test_items_are_purged_after_thirty_days() -> None:
    p = emulator()
    team = create_group(p, "team", unified=True)
    p.call("DELETE", f"/groups/{team}")
    p.emulator.clock.advance(30 * DAY - 1)
    assert len(p.get("/directory/deletedItems/microsoft.graph.group")["value"]) == 1
    p.emulator.clock.advance(1)
    assert p.get("/directory/deletedItems/microsoft.graph.group")["value"] == []
    assert p.tenant.directory.is_gone(team)
    assert purge_expired(p.tenant.directory, p.emulator.clock.now()) == 0


def test_soft_deleted_member_leaves_members_delta_only_when_hard_deleted() -> None:
    p = emulator()
    user = create_user(p, "adele")
    group = create_group(p, "g")
    add_member(p, group, user)
    link = p.get("/groups/delta")["@odata.deltaLink"].removeprefix("https://graph.example/v1.0")
    p.call("DELETE", f"/users/{user}")
    soft = p.get(link)
    changed_groups = [g for g in soft["value"] if g["id"] == group]
    assert not any(m.get("@removed") for g in changed_groups for m in g.get("members@delta", []))
    link = soft["@odata.deltaLink"].removeprefix("https://graph.example/v1.0")
    p.call("DELETE", f"/directory/deletedItems/{user}")
    hard = [g for g in p.get(link)["value"] if g["id"] == group]
    removed = [m for g in hard for m in g.get("members@delta", []) if "@removed" in m]
    assert [m["id"] for m in removed] == [user]
