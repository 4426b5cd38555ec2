"""Objects read with every property of their type selected are schema-valid too.

The default property set hides most stored properties; ``$select`` of every structural
property (streams aside, which Graph serves as media) shows them all.
"""

from __future__ import annotations

import pytest

from graph_emulator.model.kinds import KINDS
from tests.fidelity.oracle.schema import load_schema
from tests.support.live_emulator import LiveEmulator

FULL_SELECT_GAPS: dict[str, str] = {
}
"""Kinds whose full-select answer breaks the schema: reported, checked outside the
committed suite until fixed."""
KINDS_CHECKED = [k for k in KINDS if "{id}" not in KINDS[k].path and k not in FULL_SELECT_GAPS]


def full_select_problems(emulator: LiveEmulator, kind: str) -> list[str]:
    """Schema problems of the kind's collection (or singleton) read with every property."""
    schema = load_schema()
    spec = KINDS[kind]
    properties, _ = schema.members(spec.odata_type)
    select = ",".join(name for name, ref in properties.items() if ref.name != "Edm.Stream")
    with emulator.http() as client:
        response = client.get(spec.path.lstrip("/"), params={"$select": select})
    assert response.status_code == 200, response.text
    body = response.json()
    if spec.singleton:
        return schema.problems(spec.odata_type, body)
    assert body["value"], f"no {kind} to check"
    return schema.collection_problems(spec.odata_type, body)


@pytest.mark.parametrize("kind", KINDS_CHECKED)
def test_full_select_answers_match_the_schema(emulator: LiveEmulator, kind: str) -> None:
    assert full_select_problems(emulator, kind) == []
