"""A small checker of Graph JSON against Microsoft's v1.0 CSDL.

It reads ``v1.0-cleanMetadata.xml`` from the pinned Graph reference and answers one
question: does every property of an object exist on its type (or a base type), with a
value of the declared type? Navigation properties emitted inline count as errors, since
Graph only returns them through ``$expand``.
"""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from tests.reference import CSDL, graph_bytes

_EDM = "{http://docs.oasis-open.org/odata/ns/edm}"

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?(Z|[+-]\d{2}:\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DURATION = re.compile(r"^-?P(\d+D)?(T(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")
_TIME = re.compile(r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")
_INTEGERS = {"Edm.Int16", "Edm.Int32", "Edm.Int64", "Edm.Byte", "Edm.SByte"}
_NUMBERS = {"Edm.Double", "Edm.Single", "Edm.Decimal"}


@dataclass
class StructuredType:
    """An entity or complex type: its base and its own properties."""

    name: str
    base: str | None
    abstract: bool
    properties: dict[str, tuple[str, bool]] = field(default_factory=dict)
    """name -> (type, nullable)"""
    navigation: set[str] = field(default_factory=set)


@dataclass
class Schema:
    """Every structured and enum type of the CSDL, by full name."""

    types: dict[str, StructuredType]
    enums: dict[str, tuple[frozenset[str], bool]]

    def property_of(self, type_name: str, prop: str) -> tuple[str, bool] | None:
        current: str | None = type_name
        while current:
            entry = self.types[current]
            if prop in entry.properties:
                return entry.properties[prop]
            current = entry.base
        return None

    def is_navigation(self, type_name: str, prop: str) -> bool:
        current: str | None = type_name
        while current:
            entry = self.types[current]
            if prop in entry.navigation:
                return True
            current = entry.base
        return False

    def derives_from(self, type_name: str, ancestor: str) -> bool:
        current: str | None = type_name
        while current:
            if current == ancestor:
                return True
            current = self.types[current].base if current in self.types else None
        return False


def _qualify(name: str, aliases: dict[str, str]) -> str:
    if name.startswith("Collection(") and name.endswith(")"):
        return f"Collection({_qualify(name[11:-1], aliases)})"
    if name.startswith("Edm."):
        return name
    prefix, _, short = name.rpartition(".")
    return f"{aliases.get(prefix, prefix)}.{short}"


@cache
def load_schema() -> Schema:
    """Parse the CSDL once."""
    root = ET.fromstring(graph_bytes(CSDL))
    schemas = list(root.iter(f"{_EDM}Schema"))
    aliases: dict[str, str] = {}
    for schema in schemas:
        namespace = schema.attrib["Namespace"]
        aliases[namespace] = namespace
        if "Alias" in schema.attrib:
            aliases[schema.attrib["Alias"]] = namespace
    types: dict[str, StructuredType] = {}
    enums: dict[str, tuple[frozenset[str], bool]] = {}
    for schema in schemas:
        namespace = schema.attrib["Namespace"]
        local = {**aliases, "self": namespace} if schema.attrib.get("Alias") == "self" else aliases
        for element in schema:
            tag = element.tag.removeprefix(_EDM)
            name = f"{namespace}.{element.attrib.get('Name', '')}"
            if tag in ("EntityType", "ComplexType"):
                base = element.attrib.get("BaseType")
                entry = StructuredType(name, _qualify(base, local) if base else None,
                                       element.attrib.get("Abstract") == "true")
                for child in element:
                    child_tag = child.tag.removeprefix(_EDM)
                    if child_tag == "Property":
                        entry.properties[child.attrib["Name"]] = (
                            _qualify(child.attrib["Type"], local),
                            child.attrib.get("Nullable") != "false",
                        )
                    elif child_tag == "NavigationProperty":
                        entry.navigation.add(child.attrib["Name"])
                types[name] = entry
            elif tag == "EnumType":
                members = frozenset(m.attrib["Name"] for m in element if m.tag.endswith("Member"))
                enums[name] = (members, element.attrib.get("IsFlags") == "true")
    return Schema(types, enums)


def check_object(type_name: str, obj: dict[str, Any]) -> list[str]:
    """Every schema violation in ``obj`` read as an instance of ``type_name``."""
    schema = load_schema()
    return _check_structured(schema, type_name.lstrip("#"), obj, "$")


def _check_structured(schema: Schema, declared: str, obj: Any, path: str) -> list[str]:
    if not isinstance(obj, dict):
        return [f"{path}: expected an object of {declared}, got {type(obj).__name__}"]
    actual = declared
    if "@odata.type" in obj:
        actual = str(obj["@odata.type"]).lstrip("#")
        if actual not in schema.types or not schema.derives_from(actual, declared):
            return [f"{path}: @odata.type {actual} is not a {declared}"]
    if schema.types[actual].abstract:
        return [f"{path}: {actual} is abstract; @odata.type is required"]
    errors: list[str] = []
    for name, value in obj.items():
        if name.startswith("@odata.") or "@odata." in name:
            continue
        where = f"{path}.{name}"
        declared_prop = schema.property_of(actual, name)
        if declared_prop is None:
            kind = "navigation property" if schema.is_navigation(actual, name) else "property"
            errors.append(f"{where}: {kind} not on {actual}")
            continue
        errors.extend(_check_value(schema, declared_prop[0], declared_prop[1], value, where))
    return errors


def _check_value(schema: Schema, type_name: str, nullable: bool, value: Any,
                 path: str) -> list[str]:
    if value is None:
        return [] if nullable else [f"{path}: null where {type_name} is not nullable"]
    if type_name.startswith("Collection("):
        if not isinstance(value, list):
            return [f"{path}: expected a list of {type_name[11:-1]}"]
        errors: list[str] = []
        for index, item in enumerate(value):
            errors.extend(_check_value(schema, type_name[11:-1], False, item, f"{path}[{index}]"))
        return errors
    if type_name.startswith("Edm."):
        return [] if _primitive_ok(type_name, value) else [
            f"{path}: {value!r} is not a valid {type_name}"]
    if type_name in schema.enums:
        members, flags = schema.enums[type_name]
        parts = value.split(",") if flags and isinstance(value, str) else [value]
        if all(isinstance(p, str) and p.strip() in members for p in parts):
            return []
        return [f"{path}: {value!r} is not a member of {type_name}"]
    if type_name in schema.types:
        return _check_structured(schema, type_name, value, path)
    return [f"{path}: unknown type {type_name}"]


def _primitive_ok(type_name: str, value: Any) -> bool:
    if type_name == "Edm.Untyped":
        return True
    if type_name == "Edm.Boolean":
        return isinstance(value, bool)
    if type_name in _INTEGERS:
        return isinstance(value, int) and not isinstance(value, bool)
    if type_name in _NUMBERS:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if not isinstance(value, str):
        return False
    patterns = {"Edm.Guid": _GUID, "Edm.DateTimeOffset": _DATETIME, "Edm.Date": _DATE,
                "Edm.Duration": _DURATION, "Edm.TimeOfDay": _TIME}
    if type_name in patterns:
        return bool(patterns[type_name].match(value))
    if type_name == "Edm.Binary":
        try:
            base64.b64decode(value, validate=True)
        except ValueError:
            return False
        return True
    return type_name in ("Edm.String", "Edm.Stream")


def describe(type_name: str) -> dict[str, str]:
    """Every structural property of a type (bases included) and its declared type."""
    schema = load_schema()
    result: dict[str, str] = {}
    current: str | None = type_name
    while current:
        entry = schema.types[current]
        for name, (prop_type, nullable) in entry.properties.items():
            result.setdefault(name, prop_type + ("" if nullable else " (not null)"))
        current = entry.base
    return result
