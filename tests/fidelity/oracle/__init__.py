"""Oracles built from Microsoft's published Graph v1.0 schema, endpoint list and doc examples.

Nothing here is written from the emulator's point of view: each module reads one of the
reference files in ``<project root>/../shared/graph-reference`` and answers questions
about what Microsoft Graph itself serves.
"""

from pathlib import Path

REFERENCE = Path(__file__).resolve().parents[3] / ".." / "shared" / "graph-reference"
"""The shared Graph reference directory, next to the project root."""
