"""Microsoft's published Graph v1.0 reference data, carried inside the project.

The files in ``graph/`` are pinned upstream copies, xz-compressed (provenance in
``graph/SOURCES.md``, MIT licences beside them), so that a clone passes its suite with
nothing beside it. Every reader of them goes through this module: each file is
decompressed at most once per process.
"""

from __future__ import annotations

import json
import lzma
import sqlite3
from functools import cache
from pathlib import Path
from typing import Any

GRAPH = Path(__file__).resolve().parent / "graph"
"""The pinned Graph reference files, each stored as ``<name>.xz``."""

CSDL = "v1.0-cleanMetadata.xml"
DOC_EXAMPLES = "graph-v1.0-doc-examples.json"
ENDPOINTS = "msgraph-v1.0-endpoints.sqlite"


class ReferenceFileMissing(FileNotFoundError):
    """A reference file the tests need is not in ``tests/reference/graph``."""


@cache
def graph_bytes(name: str) -> bytes:
    """The decompressed content of reference file ``name`` (e.g. :data:`CSDL`)."""
    path = GRAPH / f"{name}.xz"
    if not path.is_file():
        raise ReferenceFileMissing(f"the Graph reference file {name} is missing: {path}")
    return lzma.decompress(path.read_bytes())


def graph_json(name: str) -> Any:
    """Reference file ``name`` parsed as JSON; a fresh copy each call, free to mutate."""
    return json.loads(graph_bytes(name))


def graph_sqlite(name: str) -> sqlite3.Connection:
    """A private in-memory copy of the SQLite reference file ``name``; close it after use.

    The database is loaded from memory, so no decompressed copy lands on disk.
    """
    db = sqlite3.connect(":memory:")
    db.deserialize(graph_bytes(name))
    return db
