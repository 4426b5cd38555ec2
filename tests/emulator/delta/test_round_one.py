"""Round 1: paging through what exists, with $select carried by the tokens."""

from __future__ import annotations

import pytest

from graph_emulator.model.kinds import KINDS
from tests.emulator.delta.support import (
    add_group,
    add_user,
    call,
    emulator,
    gid,
    items,
    relative,
    round_pages,
    uid,
)


def test_round_one_pages_every_live_user_once_then_gives_a_delta_link() -> None:
    p = emulator(page_size=3)
    ids = [add_user(p, n) for n in range(8)]
    p.tenant.directory.soft_delete(p.tenant.directory.live[ids[7]], at=0)
    pages, delta_link = round_pages(p, "/users/delta")
    assert len(pages) == 3
    assert all("@odata.deltaLink" not in page for page in pages[:-1])
    assert sorted(item["id"] for item in items(pages)) == ids[:7]
    assert "$deltatoken=" in delta_link and delta_link.startswith(
        "https://graph.example/v1.0/users/delta?")


def test_select_is_carried_by_the_skip_token_and_shows_in_the_first_context() -> None:
    p = emulator(page_size=2)
    for n in range(3):
        add_user(p, n, jobTitle="Clerk")
    pages, _ = round_pages(p, "/users/delta?$select=displayName,jobTitle")
    assert pages[0]["@odata.context"].endswith("$metadata#users(displayName,jobTitle)")
    assert pages[1]["@odata.context"].endswith("$metadata#users")
    assert "$select" not in pages[0]["@odata.nextLink"]
    for item in items(pages):
        assert set(item) == {"displayName", "jobTitle", "id"}


def test_default_user_properties_without_select() -> None:
    p = emulator()
    add_user(p, 1)
    user = items(round_pages(p, "/users/delta")[0])[0]
    assert "userPrincipalName" in user and "department" not in user


def test_paging_survives_objects_deleted_and_added_between_pages() -> None:
    p = emulator(page_size=2)
    ids = [add_user(p, n * 10) for n in range(6)]
    first = call(p, "/users/delta").body
    directory = p.tenant.directory
    directory.hard_delete(directory.live[ids[0]])
    directory.hard_delete(directory.live[ids[2]])
    add_user(p, 5)
    rest, _ = round_pages(p, first["@odata.nextLink"])
    seen = [item["id"] for item in first["value"] + items(rest)]
    assert seen == [ids[0], ids[1], ids[3], ids[4], ids[5]]


def test_a_large_group_is_repeated_with_member_slices_across_pages() -> None:
    p = emulator(member_budget=4)
    members = [add_user(p, n) for n in range(10)]
    big = add_group(p, 1, members)
    small = add_group(p, 2, members[:2])
    empty = add_group(p, 3)
    pages, _ = round_pages(p, "/groups/delta")
    repeats = [item for item in items(pages) if item["id"] == big]
    assert len(repeats) == 3
    assert all(item["displayName"] == "Group 1" for item in repeats)
    slices = [[ref["id"] for ref in item["members@delta"]] for item in repeats]
    assert [len(s) for s in slices] == [4, 4, 2]
    assert sorted(member for part in slices for member in part) == members
    by_id = {item["id"]: item for item in items(pages)}
    assert [ref["id"] for ref in by_id[small]["members@delta"]] == members[:2]
    assert by_id[small]["members@delta"][0]["@odata.type"] == "#microsoft.graph.user"
    assert "members@delta" not in by_id[empty]


def test_members_only_when_selected_and_manager_as_a_list() -> None:
    p = emulator()
    boss = add_user(p, 1)
    worker = add_user(p, 2)
    p.loader.link("manager", worker, boss)
    add_group(p, 1, [boss])
    group = items(round_pages(p, "/groups/delta?$select=displayName")[0])[0]
    assert "members@delta" not in group
    group = items(round_pages(p, "/groups/delta?$select=displayName,members")[0])[0]
    assert group["members@delta"] == [{"@odata.type": "#microsoft.graph.user", "id": boss}]
    users = items(round_pages(p, "/users/delta?$select=displayName,manager")[0])
    by_id = {user["id"]: user for user in users}
    assert by_id[worker]["manager@delta"] == [{"@odata.type": "#microsoft.graph.user",
                                               "id": boss}]
    assert "manager@delta" not in by_id[boss]


def test_selecting_an_untracked_navigation_is_not_implemented() -> None:
    p = emulator()
    response = call(p, "/users/delta?$select=displayName,memberOf")
    assert response.status == 501
    assert response.body["error"]["code"] == "NotImplemented"


@pytest.mark.parametrize("suffix", ["delta", "delta()", "microsoft.graph.delta()",
                                    "microsoft.graph.delta"])
def test_every_spelling_of_the_function_is_served(suffix: str) -> None:
    p = emulator()
    add_user(p, 1)
    assert [item["id"] for item in p.get(f"/users/{suffix}")["value"]] == [uid(1)]


@pytest.mark.parametrize("kind", [k for k, spec in KINDS.items() if spec.delta])
def test_every_delta_collection_answers(kind: str) -> None:
    p = emulator()
    body = p.get(f"{KINDS[kind].path}/delta")
    assert body["value"] == [] and "@odata.deltaLink" in body
    assert relative(body["@odata.deltaLink"]).startswith(f"{KINDS[kind].path}/delta?")


def test_administrative_units_delta_lists_members() -> None:
    p = emulator()
    user = add_user(p, 1)
    p.loader.add("administrativeUnits", {"id": gid(9), "displayName": "Europe"})
    p.loader.link("members", gid(9), user)
    unit = p.get("/directory/administrativeUnits/delta")["value"][0]
    assert unit["displayName"] == "Europe"
    assert unit["members@delta"] == [{"@odata.type": "#microsoft.graph.user", "id": user}]


def test_group_member_read_permission_is_enough_for_groups_delta() -> None:
    p = emulator()
    p.auth.caller.roles = frozenset({"GroupMember.Read.All"})
    assert call(p, "/groups/delta").status == 200
    denied = call(p, "/users/delta")
    assert denied.status == 403
    assert denied.body["error"]["code"] == "Authorization_RequestDenied"


def test_filter_by_ids_tracks_only_those_objects() -> None:
    p = emulator()
    ids = [add_user(p, n) for n in range(4)]
    url = f"/users/delta?$filter=id eq '{ids[1]}' or id eq '{ids[3]}'"
    pages, delta_link = round_pages(p, url)
    assert [item["id"] for item in items(pages)] == [ids[1], ids[3]]
    directory = p.tenant.directory
    for object_id in ids:
        directory.update(directory.live[object_id], {"jobTitle": "Changed"})
    changed, _ = round_pages(p, delta_link)
    assert [item["id"] for item in items(changed)] == [ids[1], ids[3]]


@pytest.mark.parametrize("query", [
    "$top=5", "$expand=manager", "$orderby=displayName", "$filter=displayName eq 'x'",
    "$filter=" + " or ".join(f"id eq '{uid(n)}'" for n in range(51)),
])
def test_unsupported_options_are_refused(query: str) -> None:
    p = emulator()
    response = call(p, f"/users/delta?{query}")
    assert response.status == 400
    assert response.body["error"]["code"] == "Request_UnsupportedQuery"


def test_fifty_ids_are_accepted() -> None:
    p = emulator()
    query = " or ".join(f"id eq '{uid(n)}'" for n in range(50))
    assert call(p, f"/users/delta?$filter={query}").status == 200


def test_unknown_selected_property_is_refused() -> None:
    response = call(emulator(), "/users/delta?$select=displayName,shoeSize")
    assert response.status == 400
    assert "shoeSize" in response.body["error"]["message"]
