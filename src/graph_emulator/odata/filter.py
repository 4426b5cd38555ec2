"""The subset of OData ``$filter`` that the directory supports, compiled to a predicate.

Supported: ``eq``, ``ne``, ``gt``, ``ge``, ``lt``, ``le``, ``in``, ``and``, ``or``, ``not``,
``startswith``, ``endswith``, and lambda ``any`` over collections (``groupTypes/any(c:c eq
'Unified')``, ``assignedLicenses/any(x:x/skuId eq GUID)``). ``ne``, ``not`` and
``endswith`` are advanced queries: they need ``ConsistencyLevel: eventual`` and ``$count``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graph_emulator.protocol import GraphError, unsupported_query

Predicate = Callable[[dict[str, Any]], bool]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^']|'')*')
      | (?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})
      | (?P<datetime>\d{4}-\d\d-\d\dT[0-9:.]+Z)
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<name>[A-Za-z_][A-Za-z0-9_./@#]*)
      | (?P<punct>[(),:])
    )""",
    re.VERBOSE,
)
_COMPARISONS = {"eq", "ne", "gt", "ge", "lt", "le"}
_ADVANCED_OPS = {"ne", "not", "endswith"}


@dataclass
class CompiledFilter:
    """A compiled ``$filter``: the predicate and what it used."""

    predicate: Predicate
    properties: set[str] = field(default_factory=set)
    advanced: set[str] = field(default_factory=set)
    id_values: list[str] | None = None
    """The ids when the filter is only ``id eq`` clauses joined by ``or`` (delta allows that)."""


def invalid(text: str) -> GraphError:
    return GraphError(400, "BadRequest", f"Invalid filter clause: {text}")


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise invalid(f"Syntax error at position {position} in '{text}'.")
        group = match.lastgroup or ""
        tokens.append((group, match.group(group)))
        position = match.end()
    return tokens


def _resolve(obj: Any, path: str) -> Any:
    value = obj
    for part in path.split("/"):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _compare(op: str, left: Any, right: Any) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        left, right = left.lower(), right.lower()
    if op == "eq":
        return bool(left == right)
    if op == "ne":
        return bool(left != right)
    if left is None or right is None:
        return False
    try:
        return bool({
            "gt": left > right, "ge": left >= right, "lt": left < right, "le": left <= right,
        }[op])
    except TypeError:
        return False


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.position = 0
        self.properties: set[str] = set()
        self.advanced: set[str] = set()
        self.ids: list[str] | None = []

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise invalid(f"Unexpected end of '{self.text}'.")
        self.position += 1
        return token

    def expect(self, value: str) -> None:
        _, text = self.take()
        if text.lower() != value:
            raise invalid(f"Expected '{value}' but found '{text}' in '{self.text}'.")

    def at_word(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token[0] == "name" and token[1].lower() in words

    def parse(self) -> CompiledFilter:
        predicate = self.or_expr(None)
        if self.peek() is not None:
            raise invalid(f"Unexpected '{self.peek()[1]}' in '{self.text}'.")  # type: ignore[index]
        return CompiledFilter(predicate, self.properties, self.advanced, self.ids or None)

    def or_expr(self, var: str | None) -> Predicate:
        parts = [self.and_expr(var)]
        while self.at_word("or"):
            self.take()
            parts.append(self.and_expr(var))
        if len(parts) == 1:
            return parts[0]
        return lambda o: any(p(o) for p in parts)

    def and_expr(self, var: str | None) -> Predicate:
        parts = [self.unary(var)]
        while self.at_word("and"):
            self.take()
            self.ids = None
            parts.append(self.unary(var))
        if len(parts) == 1:
            return parts[0]
        return lambda o: all(p(o) for p in parts)

    def unary(self, var: str | None) -> Predicate:
        if self.at_word("not"):
            self.take()
            self.advanced.add("not")
            self.ids = None
            inner = self.unary(var)
            return lambda o: not inner(o)
        return self.primary(var)

    def primary(self, var: str | None) -> Predicate:
        token = self.peek()
        if token is not None and token[1] == "(":
            self.take()
            inner = self.or_expr(var)
            self.expect(")")
            return inner
        if self.at_word("startswith", "endswith"):
            return self.string_function(var)
        return self.comparison(var)

    def string_function(self, var: str | None) -> Predicate:
        name = self.take()[1].lower()
        self.ids = None
        if name == "endswith":
            self.advanced.add("endswith")
        self.expect("(")
        path = self.path(var)
        self.expect(",")
        prefix = self.literal()
        self.expect(")")
        if not isinstance(prefix, str):
            raise invalid(f"{name} takes a string in '{self.text}'.")
        wanted = prefix.lower()

        def check(o: dict[str, Any]) -> bool:
            value = o if path == "" else _resolve(o, path)
            if not isinstance(value, str):
                return False
            return value.lower().startswith(wanted) if name == "startswith" else (
                value.lower().endswith(wanted))

        return check

    def path(self, var: str | None) -> str:
        kind, text = self.take()
        if kind != "name":
            raise invalid(f"Expected a property name, found '{text}' in '{self.text}'.")
        if var is not None and (text == var or text.startswith(var + "/")):
            return text[len(var) + 1:]
        if "/any" in text or text.endswith("/all"):
            return text
        self.properties.add(text.split("/")[0])
        return text

    def comparison(self, var: str | None) -> Predicate:
        path = self.path(var)
        if path.endswith("/any") or path.endswith("/all"):
            return self.lambda_expr(path, var)
        token = self.take()
        op = token[1].lower()
        if op == "in":
            return self.in_list(path)
        if op not in _COMPARISONS:
            raise invalid(f"Unknown operator '{token[1]}' in '{self.text}'.")
        if op in _ADVANCED_OPS:
            self.advanced.add(op)
        value = self.literal()
        if not (op == "eq" and path == "id" and isinstance(value, str)) or self.ids is None:
            self.ids = None
        else:
            self.ids.append(value)

        def check(o: dict[str, Any]) -> bool:
            return _compare(op, o if path == "" else _resolve(o, path), value)

        return check

    def in_list(self, path: str) -> Predicate:
        self.ids = None
        self.expect("(")
        values = [self.literal()]
        while self.peek() is not None and self.peek()[1] == ",":  # type: ignore[index]
            self.take()
            values.append(self.literal())
        self.expect(")")
        lowered = {v.lower() if isinstance(v, str) else v for v in values}

        def check(o: dict[str, Any]) -> bool:
            value = o if path == "" else _resolve(o, path)
            return (value.lower() if isinstance(value, str) else value) in lowered

        return check

    def lambda_expr(self, path: str, outer: str | None) -> Predicate:
        collection = path.rsplit("/", 1)[0]
        quantifier = path.rsplit("/", 1)[1]
        self.properties.add(collection.split("/")[0])
        self.ids = None
        self.expect("(")
        token = self.peek()
        if token is not None and token[1] == ")":
            # any() with no body: the collection is not empty.
            self.take()
            return lambda o: bool(_resolve(o, collection))
        var = self.take()[1]
        self.expect(":")
        inner = self.or_expr(var)
        self.expect(")")

        def check(o: dict[str, Any]) -> bool:
            items = _resolve(o, collection)
            if not isinstance(items, list):
                return False
            # Items may be scalars (groupTypes/any(c:c eq 'Unified')): the body's
            # comparisons resolve the bare lambda variable to the item itself.
            if quantifier == "any":
                return any(inner(item) for item in items)
            return all(inner(item) for item in items)

        return check

    def literal(self) -> Any:
        kind, text = self.take()
        if kind == "string":
            return text[1:-1].replace("''", "'")
        if kind in ("guid", "datetime"):
            return text
        if kind == "number":
            return float(text) if "." in text else int(text)
        if kind == "name" and text.lower() in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[text.lower()]
        raise invalid(f"Expected a literal, found '{text}' in '{self.text}'.")


def compile_filter(text: str) -> CompiledFilter:
    """Compile ``$filter`` text, raising Graph's 400 errors on syntax it does not accept."""
    if not text.strip():
        raise invalid("The $filter expression is empty.")
    return _Parser(text).parse()


def require_supported(compiled: CompiledFilter, supported: frozenset[str], type_name: str) -> None:
    """Refuse filters on properties the directory cannot filter on, as Graph does."""
    for name in sorted(compiled.properties):
        if name not in supported:
            raise unsupported_query(
                f"Unsupported or invalid query filter clause specified for property '{name}' "
                f"of resource '{type_name}'."
            )
