"""Derive the emulator's property-name table from Microsoft's Graph v1.0 CSDL.

Writes ``src/graph_emulator/data/properties.json``: for each entity type the emulator
serves, the structural and navigation property names of the type and its base types.
Source: ``v1.0-cleanMetadata.xml`` from microsoftgraph/msgraph-metadata (MIT), pinned in
``../shared/graph-reference/``. Run from the project root after updating that copy.
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CSDL = ROOT.parent / "shared" / "graph-reference" / "v1.0-cleanMetadata.xml"
OUT = ROOT / "src" / "graph_emulator" / "data" / "properties.json"
NS = {"edm": "http://docs.oasis-open.org/odata/ns/edm"}

sys.path.insert(0, str(ROOT / "src"))
from graph_emulator.model.kinds import KINDS  # noqa: E402

EXTRA_TYPES = (
    "microsoft.graph.ipNamedLocation",
    "microsoft.graph.countryNamedLocation",
    "microsoft.graph.directoryObject",
)


def load_types() -> dict[str, ET.Element]:
    tree = ET.parse(CSDL)
    types: dict[str, ET.Element] = {}
    for schema in tree.getroot().iter(f"{{{NS['edm']}}}Schema"):
        namespace = schema.get("Namespace", "")
        for entity in schema.findall("edm:EntityType", NS):
            types[f"{namespace}.{entity.get('Name')}"] = entity
    return types


def names(types: dict[str, ET.Element], full_name: str) -> tuple[list[str], list[str]]:
    props: list[str] = []
    navs: list[str] = []
    current: str | None = full_name
    while current:
        entity = types[current]
        props += [p.get("Name", "") for p in entity.findall("edm:Property", NS)]
        navs += [n.get("Name", "") for n in entity.findall("edm:NavigationProperty", NS)]
        base = entity.get("BaseType")
        current = base.replace("graph.", "microsoft.graph.", 1) if base else None
    return sorted(set(props)), sorted(set(navs))


def main() -> None:
    types = load_types()
    wanted = sorted({k.odata_type for k in KINDS.values()} | set(EXTRA_TYPES))
    table = {}
    for full_name in wanted:
        props, navs = names(types, full_name)
        table[full_name] = {"properties": props, "navigationProperties": navs}
    payload = {"source": "microsoftgraph/msgraph-metadata clean_v10_metadata/cleanMetadata.xml",
               "types": table}
    OUT.write_text(json.dumps(payload, indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}: {len(table)} types")


if __name__ == "__main__":
    main()
