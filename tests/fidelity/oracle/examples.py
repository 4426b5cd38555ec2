"""Microsoft's Graph v1.0 documentation examples, and comparison of response shapes.

``graph-v1.0-doc-examples.json`` holds request/response pairs lifted from the docs; a
request ``url`` has ``*`` where the docs show an id or a value. ``shape`` reduces a JSON
body to its set of key paths (values ignored, list elements merged), and ``compare``
reports how two shapes differ, minus the differences declared acceptable for an example.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from tests.reference import DOC_EXAMPLES, graph_json

V1 = "https://graph.microsoft.com/v1.0"
_ANNOTATION_END = re.compile(r"@(odata\.\w+|delta|removed|microsoft\.graph\.\w+)$")


@dataclass(frozen=True)
class Example:
    """One documented request and the response the docs show for it."""

    index: int
    method: str
    url: str
    """The URL pattern, with ``*`` for ids and values."""
    example_url: str
    status: int
    body: Any

    @property
    def path(self) -> str:
        """The pattern's path below ``/v1.0`` (``/users/*/memberOf``), without the query."""
        return urlsplit(self.url.replace(" ", "%20")).path.removeprefix("/v1.0")

    @property
    def query(self) -> str:
        """The example's own query string (``$select=id&$top=2``), undecoded."""
        return self.example_url.partition("?")[2]

    def __str__(self) -> str:
        return f"#{self.index} {self.method} {self.path}{'?' + self.query if self.query else ''}"


@cache
def load_examples() -> tuple[Example, ...]:
    """Every v1.0 example, in file order (beta examples in the file are left out)."""
    mocks = graph_json(DOC_EXAMPLES)["mocks"]
    examples = []
    for index, mock in enumerate(mocks):
        request, response = mock["request"], mock["response"]
        if not request["url"].startswith(V1 + "/"):
            continue
        examples.append(Example(
            index=index, method=request["method"], url=request["url"],
            example_url=request.get("exampleUrl", request["url"]),
            status=int(response.get("statusCode", 200)), body=response.get("body"),
        ))
    return tuple(examples)


def select(method: str, path: str,
           examples: Iterable[Example] | None = None) -> list[Example]:
    """Examples for ``method`` whose path pattern is ``path`` (``*`` for ids), ignoring case.

    Patterns compare as written: ``/users/*`` does not select ``/users/delta``.
    """
    pool = load_examples() if examples is None else examples
    wanted = path.lower()
    return [e for e in pool if e.method == method.upper() and e.path.lower() == wanted]


def shape(body: Any, prefix: str = "") -> frozenset[str]:
    """The key paths of a JSON value: ``value[].assignedLicenses[].skuId``; values ignored."""
    paths: set[str] = set()
    if isinstance(body, dict):
        for key, value in body.items():
            here = f"{prefix}.{key}" if prefix else key
            paths.add(here)
            paths.update(shape(value, here))
    elif isinstance(body, list):
        for item in body:
            paths.update(shape(item, prefix + "[]"))
    return frozenset(paths)


def is_annotation(path: str) -> bool:
    """Whether the last key of a key path is an OData annotation (``x@odata.type``)."""
    return _ANNOTATION_END.search(path) is not None


@dataclass(frozen=True)
class Allowance:
    """Differences acceptable for one example, as key-path globs, and why."""

    reason: str
    missing: tuple[str, ...] = ()
    """Globs of keys the example has and our response may lack."""
    extra: tuple[str, ...] = ()
    """Globs of keys our response may add."""


@dataclass
class Differences:
    """How our response's shape departs from an example's, after allowances."""

    missing: list[str] = field(default_factory=list)
    """Keys the example has and ours lacks."""
    extra: list[str] = field(default_factory=list)
    """Keys ours has and the example lacks."""

    @property
    def annotations(self) -> list[str]:
        """The subset of differences that are OData annotations."""
        return [p for p in self.missing + self.extra if is_annotation(p)]

    def __bool__(self) -> bool:
        return bool(self.missing or self.extra)

    def __str__(self) -> str:
        return f"missing from ours: {self.missing}; added by ours: {self.extra}"


def glob_matches(glob: str, path: str) -> bool:
    """Whether a key path matches a glob in which only ``*`` is special (any characters)."""
    pattern = ".*".join(re.escape(part) for part in glob.split("*"))
    return re.fullmatch(pattern, path) is not None


def compare(expected: Any, actual: Any, allowances: Iterable[Allowance] = ()) -> Differences:
    """Shape differences between an example body and ours, minus the allowed ones."""
    rules = tuple(allowances)
    missing_globs = [g for rule in rules for g in rule.missing]
    extra_globs = [g for rule in rules for g in rule.extra]
    ours, theirs = shape(actual), shape(expected)
    missing = sorted(p for p in theirs - ours
                     if not any(glob_matches(g, p) for g in missing_globs))
    extra = sorted(p for p in ours - theirs if not any(glob_matches(g, p) for g in extra_globs))
    return Differences(missing=missing, extra=extra)
