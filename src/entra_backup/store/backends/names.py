"""Checks shared by every backend: what a file name and a byte range may be."""

from __future__ import annotations

from entra_backup.store.backends.base import InvalidName

_FORBIDDEN_SEGMENTS = frozenset({"", ".", ".."})


def check_name(name: str) -> str:
    """Return ``name`` if it is a safe relative path, else raise :class:`InvalidName`.

    A safe name is non-empty, relative, slash-separated, without empty, ``.`` or ``..``
    segments, backslashes or control characters, so that no backend can be steered
    outside its root or prefix.
    """
    if not name or name.startswith("/"):
        raise InvalidName(f"file name must be a non-empty relative path, got {name!r}")
    if "\\" in name or any(ord(char) < 32 for char in name):
        raise InvalidName(f"file name contains a backslash or control character: {name!r}")
    if any(segment in _FORBIDDEN_SEGMENTS for segment in name.split("/")):
        raise InvalidName(f"file name has an empty, '.' or '..' segment: {name!r}")
    return name


def check_prefix(prefix: str) -> str:
    """Return ``prefix`` if listing by it cannot escape the backend's root."""
    if prefix and (prefix.startswith("/") or ".." in prefix.split("/") or "\\" in prefix):
        raise InvalidName(f"list prefix must be relative without '..': {prefix!r}")
    return prefix


def check_range(offset: int, length: int) -> None:
    """Refuse negative offsets and lengths, which no backend can serve."""
    if offset < 0 or length < 0:
        raise ValueError(f"offset and length must be >= 0, got {offset} and {length}")
