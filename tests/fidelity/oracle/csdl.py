"""Read Microsoft's Graph v1.0 CSDL into plain type descriptions.

Only what validation needs is kept: structured types (entity and complex) with their base
type, flags, properties and navigation properties, and enum types with their members.
Aliases (``graph.user``, ``self.alert``) are resolved to full names (``microsoft.graph.user``).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

_EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
_COLLECTION = "Collection("


@dataclass(frozen=True, slots=True)
class TypeRef:
    """The declared type of a property: a full type name, maybe a collection of it."""

    name: str
    collection: bool
    nullable: bool

    def __str__(self) -> str:
        return f"Collection({self.name})" if self.collection else self.name


@dataclass(slots=True)
class StructuredType:
    """An entity or complex type as declared, without inherited members."""

    name: str
    entity: bool
    base: str | None = None
    abstract: bool = False
    open: bool = False
    properties: dict[str, TypeRef] = field(default_factory=dict)
    navigation: dict[str, TypeRef] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EnumType:
    """An enum type: its member names, and whether values combine as flags."""

    name: str
    members: frozenset[str]
    flags: bool


@dataclass(frozen=True, slots=True)
class BoundOperation:
    """A bound action or function: its name and the type it binds to."""

    name: str
    action: bool
    binding: TypeRef


@dataclass(slots=True)
class Csdl:
    """Every structured and enum type of a CSDL document, by full name, with the entity
    container's sets and singletons and the bound operations by name."""

    types: dict[str, StructuredType]
    enums: dict[str, EnumType]
    roots: dict[str, TypeRef] = field(default_factory=dict)
    """Entity sets (collections) and singletons of the container, by name."""
    operations: dict[str, list[BoundOperation]] = field(default_factory=dict)


class CsdlError(ValueError):
    """The metadata document is missing or not the CSDL this oracle understands."""


def read_csdl(document: bytes, name: str) -> Csdl:
    """Parse the CSDL ``document`` (``name`` says which, in errors)."""
    try:
        root = ET.fromstring(document)
    except ET.ParseError as exc:
        raise CsdlError(f"cannot read Graph metadata {name}: {exc}") from exc
    schemas = list(root.iter(f"{_EDM}Schema"))
    if not schemas:
        raise CsdlError(f"{name} has no CSDL Schema element")
    aliases = {s.get("Alias", ""): s.get("Namespace", "") for s in schemas if s.get("Alias")}
    csdl = Csdl(types={}, enums={})
    for schema in schemas:
        _read_schema(schema, _Names(schema.get("Namespace", ""), aliases), csdl)
    return csdl


class _Names:
    """Resolves aliased and relative type names inside one Schema element."""

    def __init__(self, namespace: str, aliases: dict[str, str]) -> None:
        self.namespace = namespace
        self.aliases = aliases

    def own(self, name: str) -> str:
        return f"{self.namespace}.{name}"

    def full(self, name: str) -> str:
        prefix, _, rest = name.partition(".")
        if rest and prefix in self.aliases:
            return f"{self.aliases[prefix]}.{rest}"
        return name

    def ref(self, declared: str, nullable: bool) -> TypeRef:
        if declared.startswith(_COLLECTION):
            return TypeRef(self.full(declared[len(_COLLECTION):-1]), True, nullable)
        return TypeRef(self.full(declared), False, nullable)


def _read_schema(schema: ET.Element, names: _Names, csdl: Csdl) -> None:
    for element in schema:
        tag = element.tag.removeprefix(_EDM)
        if tag in ("EntityType", "ComplexType"):
            structured = _read_structured(element, names, tag == "EntityType")
            csdl.types[structured.name] = structured
        elif tag in ("Action", "Function") and element.get("IsBound") == "true":
            _read_operation(element, names, csdl, tag == "Action")
        elif tag == "EntityContainer":
            _read_container(element, names, csdl)
        elif tag == "EnumType":
            members = frozenset(m.get("Name", "") for m in element.iter(f"{_EDM}Member"))
            name = names.own(element.get("Name", ""))
            csdl.enums[name] = EnumType(name, members, element.get("IsFlags") == "true")


def _read_structured(element: ET.Element, names: _Names, entity: bool) -> StructuredType:
    base = element.get("BaseType")
    result = StructuredType(
        name=names.own(element.get("Name", "")), entity=entity,
        base=names.full(base) if base else None,
        abstract=element.get("Abstract") == "true", open=element.get("OpenType") == "true",
    )
    for child in element:
        tag = child.tag.removeprefix(_EDM)
        nullable = child.get("Nullable", "true") != "false"
        ref = names.ref(child.get("Type", ""), nullable)
        if tag == "Property":
            result.properties[child.get("Name", "")] = ref
        elif tag == "NavigationProperty":
            result.navigation[child.get("Name", "")] = ref
    return result


def _read_operation(element: ET.Element, names: _Names, csdl: Csdl, action: bool) -> None:
    parameter = element.find(f"{_EDM}Parameter")
    if parameter is None:
        return
    name = element.get("Name", "")
    binding = names.ref(parameter.get("Type", ""), True)
    csdl.operations.setdefault(name, []).append(BoundOperation(name, action, binding))


def _read_container(element: ET.Element, names: _Names, csdl: Csdl) -> None:
    for child in element:
        tag = child.tag.removeprefix(_EDM)
        if tag == "EntitySet":
            csdl.roots[child.get("Name", "")] = TypeRef(
                names.full(child.get("EntityType", "")), True, False)
        elif tag == "Singleton":
            csdl.roots[child.get("Name", "")] = TypeRef(names.full(child.get("Type", "")),
                                                        False, False)
