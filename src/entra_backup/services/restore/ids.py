"""Which id each object of the snapshot has in the tenant now, during one restore run.

Objects undeleted or matched keep (or find) their id; re-created ones get a new one, and an
application a new ``appId``. Every body a run sends is rewritten through this map
(:meth:`IdMap.remapped`), so nothing written points at an id that no longer exists. An
object whose re-creation failed is remembered, and a body naming it raises
:class:`DependencyFailed` instead of being sent with a dangling reference.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
"""A directory object id (or appId) wherever it appears in a value."""


@dataclass(frozen=True)
class EarlierRestores:
    """What earlier restore runs of a tenant re-created (from their journals, D15)."""

    ids: Mapping[str, str] = field(default_factory=dict)
    """Old id -> the new id of every object they re-created."""
    app_ids: Mapping[str, str] = field(default_factory=dict)
    """Old appId -> new appId of the applications they re-created."""
    report_only: frozenset[str] = frozenset()
    """Old ids of the Conditional Access policies they re-created report-only (an
    operator enables them after review; until then the state is no difference)."""

    @classmethod
    def of(cls, value: EarlierRestores | Mapping[str, str] | None) -> EarlierRestores:
        """``value`` as is, or a bare old id -> new id map."""
        if isinstance(value, EarlierRestores):
            return value
        return cls(ids=dict(value or {}))

    def mapping(self) -> dict[str, str]:
        """Every old id and appId -> its new one, by lower-cased old value, for
        :func:`remap_ids`."""
        found = {old.lower(): new for old, new in self.ids.items()}
        found.update((old.lower(), new) for old, new in self.app_ids.items())
        return found


class DependencyFailed(Exception):
    """An item names an object whose re-creation or undelete failed in this run."""

    def __init__(self, object_id: str) -> None:
        super().__init__(f"depends on {object_id}, which failed")
        self.object_id = object_id


class IdMap:
    """Old id -> live id, old appId -> new appId, and the failures and creations of a run."""

    def __init__(self) -> None:
        self.ids: dict[str, str] = {}
        """Every old id -> the id it has in the tenant now (re-created or matched)."""
        self.recreated: dict[str, str] = {}
        self.app_ids: dict[str, str] = {}
        self._lowered: dict[str, str] = {}
        """``ids`` and ``app_ids`` by lower-cased old id, kept as they grow: a restore of
        100,000 objects must not rebuild it for every body it sends."""
        self.failed: set[str] = set()
        """Old ids of objects whose re-creation or undelete failed in this run."""
        self.created: set[str] = set()
        """New ids created in this run (a 404 naming one is replication lag)."""

    def match(self, old_id: str, live_id: str) -> None:
        """Record that ``old_id`` is ``live_id`` in the tenant now."""
        self.ids[old_id] = live_id
        self._lowered[old_id.lower()] = live_id

    def map(self, old_id: str, new_id: str, old_app_id: str | None = None,
            new_app_id: str | None = None) -> None:
        """Record a re-creation."""
        self.match(old_id, new_id)
        self.recreated[old_id] = new_id
        if old_app_id and new_app_id and old_app_id != new_app_id:
            self.app_ids[old_app_id] = new_app_id
            self._lowered[old_app_id.lower()] = new_app_id

    def live(self, old_id: str, live_id: str | None = None) -> str:
        """The id an object of the snapshot has in the tenant now."""
        return self.ids.get(old_id) or live_id or old_id

    def check(self, object_id: str) -> None:
        """Raise DependencyFailed when ``object_id``'s restore failed in this run."""
        if object_id in self.failed:
            raise DependencyFailed(object_id)

    def remapped(self, body: dict[str, Any]) -> dict[str, Any]:
        """``body`` with every id of a re-created object (and appId) replaced; a
        reference to an object whose restore failed raises DependencyFailed."""
        if not body:
            return body
        for object_id in body_ids(body):
            self.check(object_id)
        if not self._lowered:
            return body
        remapped = remap_ids(body, self._lowered)
        assert isinstance(remapped, dict)
        return remapped


def remap_ids(value: Any, mapping: Mapping[str, str]) -> Any:
    """``value`` with every string that is, or holds, an old id replaced by its new id
    (``mapping`` keys in lower case): id lists, ``principalId``, ``/administrativeUnits/{id}``
    scopes, ``api://{appId}`` ..."""
    if isinstance(value, str):
        hit = mapping.get(value.lower())
        if hit is not None:
            return hit
        if GUID.search(value):
            return GUID.sub(lambda m: mapping.get(m.group(0).lower(), m.group(0)), value)
        return value
    if isinstance(value, list):
        return [remap_ids(v, mapping) for v in value]
    if isinstance(value, dict):
        return {k: remap_ids(v, mapping) for k, v in value.items()}
    return value


def body_ids(value: Any) -> list[str]:
    """Every string in ``value`` and every id-shaped part of one (to check dependencies)."""
    found: list[str] = []
    if isinstance(value, str):
        found.append(value)
        found.extend(m.group(0).lower() for m in GUID.finditer(value))
    elif isinstance(value, list):
        for v in value:
            found.extend(body_ids(v))
    elif isinstance(value, dict):
        for v in value.values():
            found.extend(body_ids(v))
    return found
