"""Canonical JSON: stable, order-independent, lossless for every JSON value."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from entra_backup.domain.canonical import (
    NotCanonicalisable,
    canonical_bytes,
    is_canonical,
    parse_json,
)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=25,
)


@given(json_values)
def test_decoding_the_canonical_form_gives_the_value_back(value: Any) -> None:
    assert parse_json(canonical_bytes(value)) == value


@given(json_values)
def test_canonical_form_is_stable(value: Any) -> None:
    once = canonical_bytes(value)
    assert canonical_bytes(parse_json(once)) == once
    assert is_canonical(once)


@given(st.dictionaries(st.text(max_size=6), json_scalars, min_size=2, max_size=8))
def test_key_order_does_not_change_the_bytes(value: dict[str, Any]) -> None:
    reordered = dict(reversed(list(value.items())))
    assert canonical_bytes(reordered) == canonical_bytes(value)


def test_known_form() -> None:
    document = {"b": [1, 2.5, None], "a": {"z": True, "é": "ü"}}
    assert canonical_bytes(document) == '{"a":{"z":true,"é":"ü"},"b":[1,2.5,null]}'.encode()


def test_non_canonical_input_is_recognised() -> None:
    assert not is_canonical(b'{"b": 1, "a": 2}')
    assert not is_canonical(b"not json")


@pytest.mark.parametrize("value", [{1: "integer key"}, {"big": 2**70}, {"set": {1, 2}}])
def test_values_that_are_not_plain_json_are_refused(value: Any) -> None:
    with pytest.raises(NotCanonicalisable):
        canonical_bytes(value)


def test_invalid_json_is_refused() -> None:
    with pytest.raises(NotCanonicalisable):
        parse_json(b"{")
