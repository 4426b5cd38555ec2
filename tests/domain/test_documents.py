"""The stored document shape: relationships as sorted navigation properties, delta applied."""

from __future__ import annotations

from entra_backup.domain.documents import (
    apply_edge_delta,
    delta_relationships,
    properties_of,
    sorted_edges,
    without_relationships,
)
from entra_backup.domain.object_types import by_name

USER = "#microsoft.graph.user"


def ref(object_id: str, removed: bool = False) -> dict[str, object]:
    entry: dict[str, object] = {"@odata.type": USER, "id": object_id}
    if removed:
        entry["@removed"] = {"reason": "deleted"}
    return entry


def test_properties_drop_delta_annotations_but_keep_unknown_properties() -> None:
    item = {"id": "g1", "displayName": "Sales", "members@delta": [ref("u1")],
            "@odata.context": "x", "newPreviewProperty": {"a": 1}, "@odata.type": "#g"}
    assert properties_of(item) == {"id": "g1", "displayName": "Sales",
                                   "newPreviewProperty": {"a": 1}, "@odata.type": "#g"}


def test_edges_are_sorted_references_without_removed_entries() -> None:
    edges = sorted_edges([ref("u3"), {**ref("u1"), "displayName": "x"}, ref("u2", True)])
    assert edges == [ref("u1"), ref("u3")]


def test_a_first_round_lists_every_relationship_even_when_absent() -> None:
    groups = by_name("groups")
    values = delta_relationships(groups, {"id": "g", "members@delta": [ref("b"), ref("a")]},
                                 None)
    assert values == {"members": [ref("a"), ref("b")], "owners": []}


def test_a_later_round_applies_changes_and_keeps_what_it_does_not_mention() -> None:
    groups = by_name("groups")
    before = {"id": "g", "members": [ref("a"), ref("b")], "owners": [ref("o")]}
    item = {"id": "g", "members@delta": [ref("b", True), ref("c")]}
    assert delta_relationships(groups, item, before) == {
        "members": [ref("a"), ref("c")], "owners": [ref("o")]}


def test_manager_delta_replaces_the_manager_and_can_clear_it() -> None:
    users = by_name("users")
    before = {"id": "u", "manager": ref("m1")}
    moved = delta_relationships(users, {"id": "u", "manager@delta": [ref("m1", True),
                                                                      ref("m2")]}, before)
    assert moved == {"manager": ref("m2")}
    cleared = delta_relationships(users, {"id": "u", "manager@delta": [ref("m1", True)]},
                                  before)
    assert cleared == {"manager": None}


def test_applying_a_delta_twice_gives_the_same_edges() -> None:
    once = apply_edge_delta([ref("a")], [ref("b"), ref("a", True)])
    assert apply_edge_delta(once, [ref("b"), ref("a", True)]) == once == [ref("b")]


def test_without_relationships_keeps_only_properties() -> None:
    document = {"id": "g", "displayName": "x", "members": [], "owners": []}
    assert without_relationships(by_name("groups"), document) == {"id": "g", "displayName": "x"}
