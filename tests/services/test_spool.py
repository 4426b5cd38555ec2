"""A delta round merged on disk: replays, split member slices and removals in any order."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from entra_backup.services.backup.spool import DeltaSpool

USER = "#microsoft.graph.user"


def slice_of(group: str, members: list[str], **extra: Any) -> dict[str, Any]:
    return {"id": group, "displayName": "G", **extra,
            "members@delta": [{"@odata.type": USER, "id": m} for m in members]}


@settings(max_examples=50, deadline=None)
@given(st.permutations(range(6)), st.integers(min_value=1, max_value=4))
def test_member_slices_merge_to_every_member_in_any_order(order: list[int],
                                                          width: int) -> None:
    members = [f"u{n:02d}" for n in range(24)]
    slices = [slice_of("g", members[start:start + width])
              for start in range(0, len(members), width)]
    chosen = [slices[i % len(slices)] for i in order] + slices
    with DeltaSpool() as spool:
        for item in chosen:
            spool.add(item)
        merged = dict(spool.merged())
    assert sorted(m["id"] for m in merged["g"]["members@delta"]) == members


def test_later_properties_win_and_a_replay_is_counted() -> None:
    with DeltaSpool() as spool:
        spool.add({"id": "u1", "displayName": "Old", "jobTitle": "A"})
        spool.add({"id": "u1", "displayName": "New"})
        assert spool.get("u1") == {"id": "u1", "displayName": "New", "jobTitle": "A"}
        assert spool.replays == 1 and len(spool) == 1


def test_a_removal_wins_over_an_earlier_item_and_a_reappearance_over_a_removal() -> None:
    with DeltaSpool() as spool:
        spool.add({"id": "a", "displayName": "A"})
        spool.add({"id": "a", "@removed": {"reason": "changed"}})
        spool.add({"id": "b", "@removed": {"reason": "deleted"}})
        spool.add({"id": "c", "@removed": {"reason": "changed"}})
        spool.add({"id": "c", "displayName": "C again"})
        assert spool.removed() == {"a": "changed", "b": "deleted"}
        assert [object_id for object_id, _ in spool.merged()] == ["c"]


def test_a_later_slice_entry_for_a_member_overrides_an_earlier_one() -> None:
    removed = {"@odata.type": USER, "id": "u1", "@removed": {"reason": "deleted"}}
    with DeltaSpool() as spool:
        spool.add(slice_of("g", ["u1", "u2"]))
        spool.add({"id": "g", "members@delta": [removed]})
        entries = {m["id"]: m for m in spool.get("g")["members@delta"]}  # type: ignore[index]
    assert "@removed" in entries["u1"] and "@removed" not in entries["u2"]


def test_items_stream_in_id_order_beyond_one_read_batch() -> None:
    with DeltaSpool() as spool:
        for n in reversed(range(1200)):
            spool.add({"id": f"{n:05d}"})
        ids = [object_id for object_id, _ in spool.merged()]
    assert ids == sorted(ids) and len(ids) == 1200
