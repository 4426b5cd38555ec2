"""Merging delta pages: replays, member slices of large groups, removals, any order.

Page shapes follow Microsoft's documentation examples (graph-v1.0-doc-examples.json and
the delta-query-groups article).
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from entra_backup.graph.delta import DeltaMerger, apply_link_delta, is_token_stale
from tests.reference import DOC_EXAMPLES, graph_json

GROUP = "c2c2c2c2-0000-4000-8000-000000000001"


def member(member_id: str, removed: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"@odata.type": "#microsoft.graph.user", "id": member_id}
    if removed:
        entry["@removed"] = {"reason": removed}
    return entry


def doc_example(url: str) -> dict[str, Any]:
    mocks = graph_json(DOC_EXAMPLES)["mocks"]
    for mock in mocks:
        if mock["request"]["url"] == url:
            body: dict[str, Any] = mock["response"]["body"]
            return body
    raise AssertionError(f"no documentation example for {url}")


def test_the_documented_group_page_keeps_its_members() -> None:
    page = doc_example("https://graph.microsoft.com/v1.0/groups/delta")
    group = dict(page["value"][0], id=GROUP)
    merger = DeltaMerger()
    merger.add_all([group])
    merged = merger.changed()[GROUP]
    assert merged["displayName"] == "All Company"
    assert {m["id"] for m in merged["members@delta"]} == {
        "693acd06-2877-4339-8ade-b704261fe7a0", "49320844-be99-4164-8167-87ff5d047ace"}


def test_a_large_group_split_over_pages_is_one_object_with_every_slice() -> None:
    pages = [
        [{"id": GROUP, "displayName": "Big", "members@delta": [member("a"), member("b")]}],
        [{"id": "u1", "displayName": "Adele"}],
        [{"id": GROUP, "members@delta": [member("c")]}],
        [{"id": GROUP, "members@delta": [member("d"), member("a", removed="deleted")]}],
    ]
    merger = DeltaMerger()
    for page in pages:
        merger.add_all(page)
    merged = merger.changed()
    assert set(merged) == {GROUP, "u1"}
    assert merged[GROUP]["displayName"] == "Big"
    entries = {m["id"]: m for m in merged[GROUP]["members@delta"]}
    assert set(entries) == {"a", "b", "c", "d"}
    assert entries["a"]["@removed"] == {"reason": "deleted"}
    assert apply_link_delta({"a", "z"}, merged[GROUP]["members@delta"]) == {"b", "c", "d", "z"}


def test_a_replayed_object_takes_the_later_properties() -> None:
    merger = DeltaMerger()
    merger.add({"id": "u1", "displayName": "Old", "jobTitle": "Clerk"})
    merger.add({"id": "u1", "displayName": "New"})
    assert merger.changed()["u1"] == {"id": "u1", "displayName": "New", "jobTitle": "Clerk"}
    assert merger.replays == 1


def test_removals_keep_their_reason() -> None:
    merger = DeltaMerger()
    merger.add_all([
        {"id": "soft", "@removed": {"reason": "changed"}},
        {"id": "hard", "@removed": {"reason": "deleted"}},
        {"id": "kept", "displayName": "Kept"},
    ])
    assert merger.removed() == {"soft": "changed", "hard": "deleted"}
    assert set(merger.changed()) == {"kept"}


def test_an_object_restored_later_in_the_round_is_no_longer_removed() -> None:
    merger = DeltaMerger()
    merger.add({"id": "u1", "@removed": {"reason": "changed"}})
    merger.add({"id": "u1", "displayName": "Back"})
    assert merger.removed() == {}
    assert merger.changed()["u1"]["displayName"] == "Back"


def test_minimal_rounds_keep_nulls_as_cleared_values() -> None:
    merger = DeltaMerger()
    merger.add({"id": "u1", "jobTitle": None})
    assert merger.changed()["u1"] == {"id": "u1", "jobTitle": None}


slices = st.lists(st.lists(st.sampled_from("abcdefgh"), max_size=5, unique=True),
                  min_size=1, max_size=6)


@given(slices, st.randoms())
def test_member_slices_merge_to_the_same_set_in_any_order(parts: list[list[str]],
                                                        rnd: Any) -> None:
    pages = [{"id": GROUP, "members@delta": [member(m) for m in part]} for part in parts]
    shuffled = list(pages)
    rnd.shuffle(shuffled)
    results = []
    for order in (pages, shuffled, pages + pages):
        merger = DeltaMerger()
        merger.add_all(order)
        results.append({m["id"] for m in merger.changed()[GROUP]["members@delta"]})
    assert results[0] == results[1] == results[2] == {m for part in parts for m in part}


def test_tokens_are_resynced_before_their_seven_days_run_out() -> None:
    day = 86400.0
    assert not is_token_stale(0, 6 * day)
    assert is_token_stale(0, 6.5 * day)
