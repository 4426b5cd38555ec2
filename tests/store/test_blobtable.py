"""The compact blob table behaves like a dictionary, across merges."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from entra_backup.store.blobtable import BlobTable, Record

ids = st.binary(min_size=32, max_size=32)
u32 = st.integers(min_value=0, max_value=2**32 - 1)
records = st.tuples(u32, st.integers(min_value=0, max_value=255), u32, u32, u32)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(ids, records, max_size=200), st.lists(ids, max_size=20),
       st.integers(min_value=4, max_value=50))
def test_the_table_answers_like_a_dictionary(
    content: dict[bytes, Record], absent: list[bytes], merge_at: int,
) -> None:
    table = BlobTable(merge_at=merge_at)
    for key, record in content.items():
        table.add(key, record)
    assert len(table) == len(content)
    for key, record in content.items():
        assert key in table
        assert table.get(key) == record
    for key in absent:
        if key not in content:
            assert key not in table
            assert table.get(key) is None
    assert dict(table.items()) == content
    table.merge()
    merged = [key for key, _ in table.items()]
    assert merged == sorted(content)


def test_extreme_ids_are_found() -> None:
    table = BlobTable(merge_at=2)
    for key in (bytes(32), b"\xff" * 32, b"\x00\xff" + bytes(30), b"\xff\x00" + bytes(30)):
        table.add(key, (1, 2, 3, 4, 5))
    table.merge()
    assert all(table.get(k) == (1, 2, 3, 4, 5) for k in (bytes(32), b"\xff" * 32))
    assert b"\x01" * 32 not in table
