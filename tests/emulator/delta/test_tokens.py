"""Tokens: opaque and signed, expiring after seven days, reset on demand; replays."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from graph_emulator.handlers.delta import reset_delta_tokens, set_replay_rate
from graph_emulator.handlers.delta.state import SEVEN_DAYS
from graph_emulator.handlers.delta.tokens import DELTA, TokenState, sign, verify
from tests.emulator.delta.support import (
    add_group,
    add_user,
    call,
    emulator,
    items,
    merge,
    relative,
    round_pages,
)
from tests.support.inprocess import TENANT_ID


def _token(link: str) -> str:
    query = parse_qs(urlsplit(link).query)
    return (query.get("$deltatoken") or query["$skiptoken"])[0]


def test_a_tampered_token_is_refused() -> None:
    p = emulator()
    add_user(p, 1)
    link = round_pages(p, "/users/delta?$select=displayName")[1]
    state = verify(TENANT_ID, _token(link))
    widened = TokenState(DELTA, "users", None, None, state.generation, state.issued,
                         since=0, upto=0)
    widened_body = sign(TENANT_ID, widened).rpartition(".")[0]
    original_mac = _token(link).rpartition(".")[2]
    forged = link.replace(_token(link), f"{widened_body}.{original_mac}")
    response = call(p, forged)
    assert response.status == 400
    assert response.body["error"]["code"] == "Request_BadRequest"
    assert call(p, link.replace(_token(link), "not-a-token")).status == 400


def test_a_token_from_another_tenant_or_collection_is_refused() -> None:
    p = emulator()
    state = TokenState(DELTA, "users", None, None, 0, p.emulator.clock.now(), since=0, upto=0)
    other_tenant = sign("another-tenant", state)
    assert call(p, f"/users/delta?$deltatoken={other_tenant}").status == 400
    mine = sign(TENANT_ID, state)
    assert call(p, f"/users/delta?$deltatoken={mine}").status == 200
    assert call(p, f"/groups/delta?$deltatoken={mine}").status == 400
    assert call(p, f"/users/delta?$skiptoken={mine}").status == 400


def test_a_delta_link_expires_after_seven_days_with_410_and_a_location() -> None:
    p = emulator()
    user = add_user(p, 1)
    link = round_pages(p, "/users/delta?$select=displayName")[1]
    p.emulator.clock.advance(SEVEN_DAYS - 60)
    assert call(p, link).status == 200
    p.emulator.clock.advance(120)
    gone = call(p, link)
    assert gone.status == 410
    assert gone.body["error"]["code"] == "syncStateNotFound"
    location = gone.headers["Location"]
    assert "$deltatoken=" in location and location.endswith("$deltatoken=")
    pages, fresh = round_pages(p, relative(location))
    assert items(pages) == [{"displayName": "User 1", "id": user}]
    assert call(p, fresh).status == 200


def test_a_skip_token_also_expires() -> None:
    p = emulator(page_size=1)
    add_user(p, 1)
    add_user(p, 2)
    following = call(p, "/users/delta").body["@odata.nextLink"]
    p.emulator.clock.advance(SEVEN_DAYS + 1)
    assert call(p, following).status == 410


def test_a_forced_reset_answers_410_resync_required_for_older_tokens() -> None:
    p = emulator()
    add_user(p, 1)
    ids = ["00000000-0000-4000-8000-000000000001"]
    link = round_pages(p, f"/users/delta?$filter=id eq '{ids[0]}'")[1]
    reset_delta_tokens(p.emulator, TENANT_ID)
    gone = call(p, link)
    assert gone.status == 410
    assert gone.body["error"]["code"] == "resyncRequired"
    assert "$filter=id%20eq%20" in gone.headers["Location"]
    pages, fresh = round_pages(p, relative(gone.headers["Location"]))
    assert [item["id"] for item in items(pages)] == ids
    assert call(p, fresh).status == 200


def test_reset_of_an_unknown_tenant_is_an_error() -> None:
    with pytest.raises(KeyError):
        reset_delta_tokens(emulator().emulator, "nope")


def test_a_token_from_ahead_of_the_directory_needs_a_resync() -> None:
    p = emulator()
    state = TokenState(DELTA, "users", None, None, 0, p.emulator.clock.now(), since=99,
                       upto=99)
    response = call(p, f"/users/delta?$deltatoken={sign(TENANT_ID, state)}")
    assert response.status == 410


def test_no_replays_by_default() -> None:
    p = emulator(page_size=3)
    for n in range(20):
        add_user(p, n)
    seen = [item["id"] for item in items(round_pages(p, "/users/delta")[0])]
    assert len(seen) == len(set(seen)) == 20


def test_replays_repeat_objects_deterministically_and_merging_absorbs_them() -> None:
    def run() -> tuple[list[str], dict[str, dict[str, object]]]:
        p = emulator(page_size=3, member_budget=4)
        set_replay_rate(p.emulator, 0.3, seed=7)
        users = [add_user(p, n) for n in range(20)]
        add_group(p, 1, users[:9])
        pages, _ = round_pages(p, "/groups/delta")
        state: dict[str, dict[str, object]] = {}
        merge(state, pages)
        pages, _ = round_pages(p, "/users/delta?$select=displayName")
        merge(state, pages)
        return [item["id"] for item in items(pages)], state

    seen, state = run()
    assert len(seen) > len(set(seen)) and len(set(seen)) == 20
    assert run() == (seen, state)
    group = next(value for value in state.values() if value["links"])
    assert len(group["links"]["members"]) == 9  # type: ignore[index]


def test_replay_rate_is_checked() -> None:
    with pytest.raises(ValueError):
        set_replay_rate(emulator().emulator, 1.5)
