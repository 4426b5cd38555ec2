"""Oracles built from Microsoft's published Graph v1.0 schema, endpoint list and doc examples.

Nothing here is written from the emulator's point of view: each module reads one of the
reference files pinned in ``tests/reference/graph`` (through :mod:`tests.reference`) and
answers questions about what Microsoft Graph itself serves.
"""
