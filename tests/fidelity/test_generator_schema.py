"""Every object the tenant generator produces is valid against Microsoft's v1.0 schema."""

from __future__ import annotations

from collections import Counter
from typing import Any

from graph_emulator.generator import TenantSpec, generate_tenant
from graph_emulator.model.kinds import KINDS
from tests.fidelity.oracle.schema import load_schema


class _ValidatingSink:
    """A directory sink that validates each object as its kind's CSDL type."""

    def __init__(self) -> None:
        self.schema = load_schema()
        self.objects: Counter[str] = Counter()
        self.problems: list[str] = []

    def add(self, kind: str, obj: dict[str, Any]) -> None:
        self.objects[kind] += 1
        found = self.schema.problems(KINDS[kind].odata_type, obj)
        self.problems.extend(f"{kind} {obj.get('id')}: {p}" for p in found)

    def link(self, relation: str, source_id: str, target_id: str) -> None:
        """Links carry ids only; the schema has nothing to say about them."""


def test_every_generated_object_matches_its_schema_type() -> None:
    sink = _ValidatingSink()
    before = sink.schema.properties_checked
    generate_tenant(sink, TenantSpec(users=300, seed=11))
    checked = sink.schema.properties_checked - before
    print(f"generator: {sum(sink.objects.values())} objects of {len(sink.objects)} kinds, "
          f"{checked} properties checked")
    assert sink.problems == []
    assert set(sink.objects) == set(KINDS)
    assert checked > 10 * sum(sink.objects.values())
