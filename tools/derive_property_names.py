"""Derive the emulator's property table from Microsoft's Graph v1.0 CSDL.

Writes ``src/graph_emulator/data/properties.json``: for each entity type the emulator
serves, the structural properties of the type and its base types with their type and
nullability, the navigation property names, and the complex types those properties use
(so the emulator can answer with Graph's defaults: ``[]`` for an empty collection, a
populated object for an unset complex property).
Source: ``v1.0-cleanMetadata.xml`` from microsoftgraph/msgraph-metadata (MIT), pinned
compressed in ``tests/reference/graph/`` (see its ``SOURCES.md``). Run from the project
root after refreshing that copy.
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "graph_emulator" / "data" / "properties.json"
NS = {"edm": "http://docs.oasis-open.org/odata/ns/edm"}

sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))
from tests.reference import CSDL, graph_bytes  # noqa: E402

from graph_emulator.model.kinds import KINDS  # noqa: E402

EXTRA_TYPES = (
    "microsoft.graph.ipNamedLocation",
    "microsoft.graph.countryNamedLocation",
    "microsoft.graph.directoryObject",
)


def qualified(name: str) -> str:
    return name.replace("graph.", "microsoft.graph.", 1) if name.startswith("graph.") else name


def load_types(tag: str) -> dict[str, ET.Element]:
    root = ET.fromstring(graph_bytes(CSDL))
    types: dict[str, ET.Element] = {}
    for schema in root.iter(f"{{{NS['edm']}}}Schema"):
        namespace = schema.get("Namespace", "")
        for element in schema.findall(f"edm:{tag}", NS):
            types[f"{namespace}.{element.get('Name')}"] = element
    return types


def describe(types: dict[str, ET.Element], full_name: str) -> dict[str, object]:
    props: dict[str, list[object]] = {}
    navs: set[str] = set()
    current: str | None = full_name
    while current:
        element = types[current]
        for prop in element.findall("edm:Property", NS):
            nullable = prop.get("Nullable", "true") != "false"
            props.setdefault(prop.get("Name", ""), [qualified(prop.get("Type", "")), nullable])
        navs |= {n.get("Name", "") for n in element.findall("edm:NavigationProperty", NS)}
        base = element.get("BaseType")
        current = qualified(base) if base else None
    return {"properties": dict(sorted(props.items())), "navigationProperties": sorted(navs)}


def complex_closure(tables: list[dict[str, object]], complexes: dict[str, ET.Element]
                    ) -> dict[str, dict[str, object]]:
    found: dict[str, dict[str, object]] = {}
    pending = [t for t in tables]
    while pending:
        table = pending.pop()
        for type_name, _ in table["properties"].values():  # type: ignore[attr-defined]
            inner = str(type_name).removeprefix("Collection(").removesuffix(")")
            if inner in complexes and inner not in found:
                found[inner] = describe(complexes, inner)
                pending.append(found[inner])
    return dict(sorted(found.items()))


def main() -> None:
    entities = load_types("EntityType")
    complexes = load_types("ComplexType")
    wanted = sorted({k.odata_type for k in KINDS.values()} | set(EXTRA_TYPES))
    table = {name: describe(entities, name) for name in wanted}
    payload = {"source": "microsoftgraph/msgraph-metadata clean_v10_metadata/cleanMetadata.xml",
               "types": table, "complexTypes": complex_closure(list(table.values()), complexes)}
    OUT.write_text(json.dumps(payload, indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}: {len(table)} entity types, "
          f"{len(payload['complexTypes'])} complex types")


if __name__ == "__main__":
    main()
