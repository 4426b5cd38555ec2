"""Validate Graph JSON against Microsoft's v1.0 CSDL.

``load_schema()`` parses ``v1.0-cleanMetadata.xml`` once per process. ``Schema.problems``
answers: is every key of this object a property (structural or navigation) of its type or
a base type, or an OData annotation, and is every value of the declared type? It returns
one readable message per problem, and counts the properties it checked.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from tests.fidelity.oracle.csdl import Csdl, StructuredType, TypeRef, read_csdl
from tests.fidelity.oracle.primitives import is_primitive, primitive_problem
from tests.reference import CSDL, graph_bytes

NAMESPACE = "microsoft.graph"
OBJECT_ANNOTATIONS = frozenset({
    "@odata.type", "@odata.id", "@odata.context", "@odata.etag", "@odata.editLink",
    "@odata.readLink", "@odata.mediaReadLink", "@odata.mediaEditLink",
    "@odata.mediaContentType", "@odata.mediaEtag",
})
"""OData control information an object may carry (OData JSON Format 4.01, section 4.5)."""
INSTANCE_ANNOTATIONS = frozenset({"@microsoft.graph.tips"})
"""Graph's own instance annotations: ``tips`` carries usage hints on some responses."""
ENVELOPE_KEYS = frozenset({
    "@odata.context", "@odata.nextLink", "@odata.deltaLink", "@odata.count", "value",
})
_REMOVED_REASONS = frozenset({"changed", "deleted"})
_EXTENSION = re.compile(r"^(extension_[0-9a-fA-F]{32}_\w+|ext[a-z0-9]{8}_\w+)$")
"""Directory extension and schema extension properties, the dynamic properties of open
directory types (``extension_<appId without dashes>_<name>``, ``ext<8 chars>_<name>``)."""
_ANY_NAME = re.compile(r"^[A-Za-z_]\w*$")
_NOTHING = re.compile(r"(?!)")


class UnknownType(KeyError):
    """A type name that the CSDL does not declare."""

    def __str__(self) -> str:
        return f"the v1.0 schema has no type {self.args[0]!r}"


class Schema:
    """The v1.0 schema, with inheritance resolved and a count of checks made."""

    def __init__(self, csdl: Csdl) -> None:
        self.csdl = csdl
        self.properties_checked = 0
        self.objects_checked = 0
        self._members: dict[str, tuple[dict[str, TypeRef], dict[str, TypeRef]]] = {}

    def full_name(self, name: str) -> str:
        """``user``, ``graph.user``, ``#microsoft.graph.user`` -> ``microsoft.graph.user``."""
        name = name.lstrip("#")
        if name.startswith("graph."):
            name = NAMESPACE + name[len("graph"):]
        if name in self.csdl.types or name in self.csdl.enums:
            return name
        qualified = f"{NAMESPACE}.{name}"
        if qualified in self.csdl.types or qualified in self.csdl.enums:
            return qualified
        raise UnknownType(name)

    def type(self, name: str) -> StructuredType:
        """The structured (entity or complex) type called ``name``."""
        full = self.full_name(name)
        if full not in self.csdl.types:
            raise UnknownType(name)
        return self.csdl.types[full]

    def bases(self, name: str) -> list[StructuredType]:
        """The type and its base types, most derived first."""
        chain = [self.type(name)]
        while chain[-1].base is not None:
            chain.append(self.type(chain[-1].base))
        return chain

    def is_subtype(self, derived: str, base: str) -> bool:
        """Whether ``derived`` is ``base`` or inherits from it."""
        target = self.full_name(base)
        return any(t.name == target for t in self.bases(derived))

    def members(self, name: str) -> tuple[dict[str, TypeRef], dict[str, TypeRef]]:
        """Structural and navigation properties of the type, inherited ones included."""
        full = self.full_name(name)
        if full not in self._members:
            properties: dict[str, TypeRef] = {}
            navigation: dict[str, TypeRef] = {}
            for declared in reversed(self.bases(full)):
                properties.update(declared.properties)
                navigation.update(declared.navigation)
            self._members[full] = (properties, navigation)
        return self._members[full]

    def problems(self, type_name: str, obj: Any) -> list[str]:
        """Every way ``obj`` departs from the schema of ``type_name`` (empty if none)."""
        self.objects_checked += 1
        short = self.full_name(type_name).removeprefix(NAMESPACE + ".")
        return _Validator(self).structured(self.full_name(type_name), obj, short)

    def collection_problems(self, type_name: str, body: Any) -> list[str]:
        """Problems of a collection response: its envelope keys, then every item."""
        if not isinstance(body, dict) or not isinstance(body.get("value"), list):
            return ["a collection response must be an object with a 'value' array"]
        found = [f"unexpected key {key!r} in a collection response"
                 for key in body if key not in ENVELOPE_KEYS]
        for index, item in enumerate(body["value"]):
            found.extend(f"value[{index}]: {p}" for p in self.problems(type_name, item))
        return found


class _Validator:
    """One validation run; walks values, reporting problems with their JSON paths."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema

    def structured(self, declared: str, obj: Any, path: str) -> list[str]:
        if not isinstance(obj, dict):
            return [f"{path}: expected an object of type {declared}, got {type(obj).__name__}"]
        actual, found = self._actual_type(declared, obj.get("@odata.type"), path)
        properties, navigation = self.schema.members(actual)
        dynamic = self._dynamic_rule(actual)
        for key, value in obj.items():
            where = f"{path}.{key}"
            if key.startswith("@"):
                found.extend(self._object_annotation(key, value, where))
            elif "@" in key:
                found.extend(self._property_annotation(key, properties, navigation, where,
                                                       dynamic))
            elif key in properties:
                self.schema.properties_checked += 1
                found.extend(self.value(properties[key], value, where))
            elif key in navigation:
                self.schema.properties_checked += 1
                found.extend(self.value(navigation[key], value, where))
            elif dynamic.match(key):
                self.schema.properties_checked += 1
            else:
                found.append(f"{where}: {actual} has no property {key!r}")
        return found

    def _dynamic_rule(self, type_name: str) -> re.Pattern[str]:
        """Which undeclared keys count as dynamic properties of an open type.

        An open complex type (``customSecurityAttributeValue``, ``identity``) takes any
        name. Open directory entity types take only extension properties: their openness
        exists for directory and schema extensions, and accepting every name would accept
        misspelled properties too.
        """
        chain = self.schema.bases(type_name)
        if not any(t.open for t in chain):
            return _NOTHING
        return _EXTENSION if chain[0].entity else _ANY_NAME

    def _actual_type(self, declared: str, odata_type: Any, path: str) -> tuple[str, list[str]]:
        if odata_type is None:
            return declared, []
        if not isinstance(odata_type, str):
            return declared, [f"{path}.@odata.type: must be a string"]
        try:
            named = self.schema.full_name(odata_type)
        except UnknownType:
            return declared, [f"{path}.@odata.type: unknown type {odata_type!r}"]
        if named not in self.schema.csdl.types or not self.schema.is_subtype(named, declared):
            return declared, [f"{path}.@odata.type: {named} is not a {declared}"]
        return named, []

    def _object_annotation(self, key: str, value: Any, where: str) -> list[str]:
        if key in OBJECT_ANNOTATIONS or key in INSTANCE_ANNOTATIONS:
            return [] if isinstance(value, str) else [f"{where}: must be a string"]
        if key == "@removed":
            if isinstance(value, dict) and value.get("reason") in _REMOVED_REASONS:
                return []
            return [f"{where}: must be {{'reason': 'changed' | 'deleted'}}, got {value!r}"]
        return [f"{where}: unknown annotation"]

    def _property_annotation(self, key: str, properties: dict[str, TypeRef],
                             navigation: dict[str, TypeRef], where: str,
                             dynamic: re.Pattern[str]) -> list[str]:
        name, _, term = key.partition("@")
        if name not in properties and name not in navigation and not dynamic.match(name):
            return [f"{where}: annotates {name!r}, which is not a property"]
        if term.startswith("odata.") or (term == "delta" and name in navigation):
            return []
        return [f"{where}: unknown annotation {term!r}"]

    def value(self, ref: TypeRef, value: Any, where: str) -> list[str]:
        if value is None:
            return [] if ref.nullable else [f"{where}: null, but {ref} is not nullable"]
        if not ref.collection:
            return self.single(ref.name, value, where)
        if not isinstance(value, list):
            return [f"{where}: expected an array for {ref}, got {type(value).__name__}"]
        found: list[str] = []
        for index, item in enumerate(value):
            if item is None and not ref.nullable:
                found.append(f"{where}[{index}]: null element in {ref}")
            elif item is not None:
                found.extend(self.single(ref.name, item, f"{where}[{index}]"))
        return found

    def single(self, type_name: str, value: Any, where: str) -> list[str]:
        if is_primitive(type_name):
            problem = primitive_problem(type_name, value)
            return [f"{where}: {problem}"] if problem else []
        enum = self.schema.csdl.enums.get(type_name)
        if enum is not None:
            names = value.split(",") if isinstance(value, str) and enum.flags else [value]
            bad = [n for n in names if not isinstance(n, str) or n.strip() not in enum.members]
            return [f"{where}: {value!r} is not a member of {type_name}"] if bad else []
        if type_name in self.schema.csdl.types:
            return self.structured(type_name, value, where)
        return [f"{where}: the schema declares unknown type {type_name}"]


@cache
def load_schema() -> Schema:
    """The v1.0 schema, parsed once per process."""
    return Schema(read_csdl(graph_bytes(CSDL), CSDL))
