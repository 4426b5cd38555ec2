"""Later rounds: what changed after the deltaLink was issued, and nothing else."""

from __future__ import annotations

import random

import pytest

from tests.emulator.delta.support import (
    add_group,
    add_user,
    call,
    emulator,
    items,
    merge,
    round_pages,
)
from tests.support.inprocess import InProcess

MINIMAL = {"Prefer": "return=minimal"}


def _start(p: InProcess, url: str) -> str:
    return round_pages(p, url)[1]


def test_no_changes_gives_an_empty_page_and_a_new_delta_link() -> None:
    p = emulator()
    add_user(p, 1)
    pages, link = round_pages(p, _start(p, "/users/delta"))
    assert items(pages) == [] and "$deltatoken=" in link


def test_only_changes_to_selected_properties_show() -> None:
    p = emulator()
    first, second = add_user(p, 1), add_user(p, 2)
    link = _start(p, "/users/delta?$select=displayName,jobTitle")
    directory = p.tenant.directory
    directory.update(directory.live[first], {"jobTitle": "Manager"})
    directory.update(directory.live[second], {"department": "Legal"})
    pages, _ = round_pages(p, link)
    assert items(pages) == [{"displayName": "User 1", "jobTitle": "Manager", "id": first}]


def test_without_select_every_property_is_tracked() -> None:
    p = emulator()
    user = add_user(p, 1)
    link = _start(p, "/users/delta")
    p.tenant.directory.update(p.tenant.directory.live[user], {"department": "Legal"})
    assert [item["id"] for item in items(round_pages(p, link)[0])] == [user]


def test_minimal_returns_only_changed_properties_and_says_so() -> None:
    p = emulator()
    user = add_user(p, 1, jobTitle="Clerk")
    link = _start(p, "/users/delta?$select=displayName,jobTitle,department")
    p.tenant.directory.update(p.tenant.directory.live[user], {"jobTitle": None})
    response = call(p, link, MINIMAL)
    assert response.body["value"] == [{"jobTitle": None, "id": user}]
    assert response.headers["Preference-Applied"] == "return=minimal"
    default = call(p, link)
    assert default.body["value"] == [{"displayName": "User 1", "jobTitle": None,
                                      "department": "Sales", "id": user}]
    assert "Preference-Applied" not in default.headers


def test_minimal_has_no_effect_in_round_one() -> None:
    p = emulator()
    add_user(p, 1)
    response = call(p, "/users/delta?$select=displayName", MINIMAL)
    assert response.body["value"][0]["displayName"] == "User 1"
    assert "Preference-Applied" not in response.headers


def test_new_soft_deleted_restored_and_hard_deleted_objects() -> None:
    p = emulator()
    kept, soft, hard, back = (add_user(p, n) for n in range(4))
    directory = p.tenant.directory
    directory.soft_delete(directory.live[back], at=0)
    link = _start(p, "/users/delta?$select=displayName")
    directory.soft_delete(directory.live[soft], at=0)
    directory.hard_delete(directory.live[hard])
    directory.restore(directory.recycle[back])
    new = add_user(p, 9)
    pages, link = round_pages(p, link)
    by_id = {item["id"]: item for item in items(pages)}
    assert kept not in by_id
    assert by_id[soft] == {"id": soft, "@removed": {"reason": "changed"}}
    assert by_id[hard] == {"id": hard, "@removed": {"reason": "deleted"}}
    assert by_id[back] == {"displayName": "User 3", "id": back}
    assert by_id[new] == {"displayName": "User 9", "id": new}
    directory.hard_delete(directory.recycle[soft])
    later = items(round_pages(p, link)[0])
    assert later == [{"id": soft, "@removed": {"reason": "deleted"}}]


def test_member_changes_carry_only_the_changed_members() -> None:
    p = emulator()
    stay, leave, join = add_user(p, 1), add_user(p, 2), add_user(p, 3)
    group = add_group(p, 1, [stay, leave])
    link = _start(p, "/groups/delta?$select=displayName,members")
    directory = p.tenant.directory
    directory.unlink("members", group, leave)
    directory.link("members", group, join)
    response = call(p, link, MINIMAL)
    assert response.body["value"] == [{"id": group, "members@delta": [
        {"@odata.type": "#microsoft.graph.user", "id": leave, "@removed": {"reason": "deleted"}},
        {"@odata.type": "#microsoft.graph.user", "id": join},
    ]}]
    default = call(p, link).body["value"][0]
    assert default["displayName"] == "Group 1" and len(default["members@delta"]) == 2


def test_member_changes_are_invisible_when_members_are_not_selected() -> None:
    p = emulator()
    user = add_user(p, 1)
    group = add_group(p, 1)
    link = _start(p, "/groups/delta?$select=displayName")
    p.tenant.directory.link("members", group, user)
    assert items(round_pages(p, link)[0]) == []


def test_soft_deleted_user_stays_a_member_until_hard_deleted() -> None:
    p = emulator()
    user = add_user(p, 1)
    group = add_group(p, 1, [user])
    link = _start(p, "/groups/delta")
    directory = p.tenant.directory
    directory.soft_delete(directory.live[user], at=0)
    pages, link = round_pages(p, link)
    assert items(pages) == []
    directory.hard_delete(directory.recycle[user])
    pages, _ = round_pages(p, link)
    assert items(pages)[0]["id"] == group
    assert items(pages)[0]["members@delta"] == [
        {"@odata.type": "#microsoft.graph.user", "id": user, "@removed": {"reason": "deleted"}}
    ]


def test_manager_changes_show_as_manager_delta() -> None:
    p = emulator()
    old, new, worker = add_user(p, 1), add_user(p, 2), add_user(p, 3)
    p.loader.link("manager", worker, old)
    link = _start(p, "/users/delta?$select=displayName,manager")
    p.tenant.directory.link("manager", worker, new)
    changed = call(p, link, MINIMAL).body["value"]
    assert changed == [{"id": worker, "manager@delta": [
        {"@odata.type": "#microsoft.graph.user", "id": old, "@removed": {"reason": "deleted"}},
        {"@odata.type": "#microsoft.graph.user", "id": new},
    ]}]


def test_changes_made_while_round_one_pages_show_in_the_next_round() -> None:
    p = emulator(page_size=1)
    first, second = add_user(p, 1), add_user(p, 2)
    page = call(p, "/users/delta?$select=displayName").body
    directory = p.tenant.directory
    directory.update(directory.live[first], {"displayName": "Renamed"})
    _, link = round_pages(p, page["@odata.nextLink"])
    changed = items(round_pages(p, link)[0])
    assert changed == [{"displayName": "Renamed", "id": first}]
    assert second not in [item["id"] for item in changed]


def test_a_large_member_change_is_split_across_pages() -> None:
    p = emulator(member_budget=3)
    group = add_group(p, 1)
    link = _start(p, "/groups/delta")
    members = [add_user(p, n) for n in range(7)]
    for member in members:
        p.tenant.directory.link("members", group, member)
    pages, _ = round_pages(p, link)
    assert len(pages) == 3
    assert sorted(ref["id"] for item in items(pages) for ref in item["members@delta"]) == members


def test_narrowing_select_on_a_delta_link_is_allowed_widening_is_not() -> None:
    p = emulator()
    user = add_user(p, 1)
    link = _start(p, "/users/delta?$select=displayName,jobTitle")
    p.tenant.directory.update(p.tenant.directory.live[user], {"jobTitle": "Boss"})
    narrowed = call(p, link + "&$select=jobTitle").body
    assert narrowed["value"] == [{"jobTitle": "Boss", "id": user}]
    widened = call(p, link + "&$select=jobTitle,department")
    assert widened.status == 400
    assert widened.body["error"]["code"] == "Request_UnsupportedQuery"


def test_select_with_a_skip_token_is_refused() -> None:
    p = emulator(page_size=1)
    add_user(p, 1)
    add_user(p, 2)
    following = call(p, "/users/delta?$select=displayName").body["@odata.nextLink"]
    response = call(p, following + "&$select=displayName")
    assert response.status == 400


def test_latest_gives_only_a_delta_link_from_now() -> None:
    p = emulator()
    before = add_user(p, 1)
    body = p.get("/users/delta?$deltaToken=latest&$select=displayName")
    assert body["value"] == [] and "@odata.nextLink" not in body
    after = add_user(p, 2)
    changed = items(round_pages(p, body["@odata.deltaLink"])[0])
    assert changed == [{"displayName": "User 2", "id": after}]
    assert before not in [item["id"] for item in changed]


def _mutate(p: InProcess, rng: random.Random, users: list[str], groups: list[str]) -> None:
    directory = p.tenant.directory
    live_users = [u for u in users if u in directory.live]
    action = rng.choice(["rename", "rename", "join", "leave", "soft", "hard", "restore", "add"])
    if action == "add":
        users.append(add_user(p, 100 + len(users)))
    elif action == "restore" and directory.recycled("users"):
        directory.restore(rng.choice(directory.recycled("users")))
    elif action == "hard" and directory.recycled("users"):
        directory.hard_delete(rng.choice(directory.recycled("users")))
    elif live_users:
        user = rng.choice(live_users)
        if action == "rename":
            directory.update(directory.live[user], {"displayName": f"N{rng.random():.6f}"})
        elif action == "soft":
            directory.soft_delete(directory.live[user], at=0)
        elif action == "join":
            directory.link("members", rng.choice(groups), user)
        else:
            directory.unlink("members", rng.choice(groups), user)


@pytest.mark.parametrize("seed", range(6))
def test_merged_rounds_equal_a_fresh_round_one(seed: int) -> None:
    p = emulator(page_size=4, member_budget=5)
    rng = random.Random(seed)
    users = [add_user(p, n) for n in range(12)]
    groups = [add_group(p, n, rng.sample(users, 6)) for n in range(3)]
    copies: dict[str, dict[str, dict[str, object]]] = {"users": {}, "groups": {}}
    links = {}
    for kind, url in (("users", "/users/delta?$select=displayName"), ("groups", "/groups/delta")):
        pages, links[kind] = round_pages(p, url)
        merge(copies[kind], pages)
    for _ in range(5):
        for _ in range(8):
            _mutate(p, rng, users, groups)
        for kind, copy in copies.items():
            pages, links[kind] = round_pages(p, links[kind], MINIMAL if seed % 2 else None)
            merge(copy, pages)
    for kind, url in (("users", "/users/delta?$select=displayName"), ("groups", "/groups/delta")):
        fresh: dict[str, dict[str, object]] = {}
        merge(fresh, round_pages(p, url)[0])
        assert copies[kind] == fresh
