"""One tenant's directory: objects, the recycle bin, links, and the change log delta reads.

Every change takes the next sequence number. Delta tokens remember the sequence number
they were issued at, so a later round reads only what changed after it, in
O(changes) rather than O(tenant).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from graph_emulator.clock import iso
from graph_emulator.model.kinds import KINDS, RELATIONS, SINGLE_VALUED

KEPT_ON_RESTORE: dict[str, frozenset[tuple[str, ...]]] = {
    # Entra "Recover from deletions" (graph-facts 5.1): a restored user keeps its group
    # memberships and roles, a Microsoft 365 group its memberships (its members). Nothing
    # else held as a link is documented as coming back; see docs/emulator-writes.md.
    "users": frozenset({("members", "in", "groups"), ("members", "in", "directoryRoles")}),
    "groups": frozenset({("members", "out"), ("members", "in", "groups"),
                         ("members", "in", "directoryRoles")}),
}
"""Per kind, the links an undelete keeps: ``(relation, "out")`` for links the object
holds, ``(relation, "in", source kind)`` for links to it; every other link is dropped."""

INDEXED: dict[str, tuple[str, ...]] = {
    "users": ("userPrincipalName", "mailNickname"),
    "groups": ("mailNickname",),
    "applications": ("appId",),
    "servicePrincipals": ("appId",),
    "domains": ("id",),
    "appRoleAssignments": ("principalId", "resourceId"),
    "scopedRoleMembers": ("administrativeUnitId",),
    "oauth2PermissionGrants": ("clientId",),
    "roleAssignments": ("principalId",),
}
"""Properties looked up by value (case-insensitively), such as a user's UPN."""


@dataclass(slots=True)
class Entry:
    """A directory object and its change bookkeeping."""

    kind: str
    data: dict[str, Any]
    created_seq: int
    seq: int
    prop_seq: dict[str, int] | None = None
    deleted_at: float | None = None

    @property
    def id(self) -> str:
        return str(self.data["id"])

    def changed_since(self, seq: int) -> list[str]:
        """Names of the properties changed after ``seq`` (all of them if created after)."""
        if self.created_seq > seq:
            return list(self.data)
        return [name for name, at in (self.prop_seq or {}).items() if at > seq]


@dataclass(slots=True)
class LinkChange:
    """A link added (``present``) or removed at sequence ``seq``."""

    seq: int
    present: bool


@dataclass
class Directory:
    """The state of one tenant's directory."""

    tenant_id: str
    seq: int = 0
    live: dict[str, Entry] = field(default_factory=dict)
    recycle: dict[str, Entry] = field(default_factory=dict)
    _ids: dict[str, list[str]] = field(default_factory=dict)
    _changes: dict[str, dict[str, int]] = field(default_factory=dict)
    _gone: dict[str, str] = field(default_factory=dict)
    _links: dict[tuple[str, str], dict[str, None]] = field(default_factory=dict)
    _link_log: dict[tuple[str, str], dict[str, LinkChange]] = field(default_factory=dict)
    _reverse: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    _index: dict[tuple[str, str], dict[str, set[str]]] = field(default_factory=dict)
    _loading: bool = False

    def begin_load(self) -> None:
        """Start a bulk load: ids are sorted once at the end, links are not change-logged.

        A delta round 1 lists every current link anyway, and no delta token can predate
        the load, so the link log only has to start afterwards.
        """
        self._loading = True

    def end_load(self) -> None:
        """Finish a bulk load started with :meth:`begin_load`."""
        for ids in self._ids.values():
            ids.sort()
        self._loading = False

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    # --- objects -------------------------------------------------------------------

    def add(self, kind: str, data: dict[str, Any]) -> Entry:
        """Insert a new live object (its ``id`` must be new)."""
        if kind not in KINDS:
            raise KeyError(kind)
        object_id = str(data["id"])
        if object_id in self.live or object_id in self.recycle:
            raise ValueError(f"duplicate id {object_id}")
        seq = self.next_seq()
        entry = Entry(kind, data, seq, seq)
        self.live[object_id] = entry
        if self._loading:
            self._ids.setdefault(kind, []).append(object_id)
        else:
            bisect.insort(self._ids.setdefault(kind, []), object_id)
        self._index_entry(entry, add=True)
        self._touch(kind, object_id, seq)
        return entry

    def get(self, object_id: str, kind: str | None = None) -> Entry | None:
        """A live object by id, optionally of one kind only."""
        entry = self.live.get(object_id)
        if entry is None or (kind is not None and entry.kind != kind):
            return None
        return entry

    def update(self, entry: Entry, changes: dict[str, Any]) -> None:
        """Apply property changes to a live object, recording which ones changed."""
        seq = self.next_seq()
        self._index_entry(entry, add=False)
        if entry.prop_seq is None:
            entry.prop_seq = {}
        for name, value in changes.items():
            if entry.data.get(name, None) != value or name not in entry.data:
                entry.data[name] = value
                entry.prop_seq[name] = seq
        self._index_entry(entry, add=True)
        entry.seq = seq
        self._touch(entry.kind, entry.id, seq)

    def soft_delete(self, entry: Entry, at: float) -> None:
        """Move a live object to the recycle bin; its links stay, as in Entra ID."""
        seq = self.next_seq()
        self._unlist(entry)
        entry.deleted_at = at
        entry.data["deletedDateTime"] = iso(at)
        entry.seq = seq
        self.recycle[entry.id] = entry
        self._touch(entry.kind, entry.id, seq)

    def restore(self, entry: Entry) -> None:
        """Bring an object back from the recycle bin with its id and the links an undelete
        is documented to keep (``KEPT_ON_RESTORE``)."""
        seq = self.next_seq()
        del self.recycle[entry.id]
        entry.deleted_at = None
        entry.data["deletedDateTime"] = None
        entry.created_seq = seq
        entry.seq = seq
        self.live[entry.id] = entry
        bisect.insort(self._ids.setdefault(entry.kind, []), entry.id)
        self._index_entry(entry, add=True)
        self._touch(entry.kind, entry.id, seq)
        self._drop_unkept_links(entry)

    def _drop_unkept_links(self, entry: Entry) -> None:
        """Drop the links an undelete is not documented to bring back (``KEPT_ON_RESTORE``):
        the model is conservative where Microsoft's pages are silent (a manager, owners,
        administrative unit membership), so a restore cannot come to rely on them."""
        kept = KEPT_ON_RESTORE.get(entry.kind, frozenset())
        for relation, sources in RELATIONS.items():
            if entry.kind in sources and (relation, "out") not in kept:
                for target in list(self._links.get((relation, entry.id), ())):
                    self.unlink(relation, entry.id, target)
        for relation, source in list(self._reverse.get(entry.id, ())):
            holder = self.live.get(source) or self.recycle.get(source)
            side = (relation, "in", holder.kind if holder is not None else "")
            if side not in kept:
                self.unlink(relation, source, entry.id)

    def hard_delete(self, entry: Entry) -> None:
        """Remove an object for good, live or recycled, with every link to or from it."""
        seq = self.next_seq()
        if entry.id in self.live:
            self._unlist(entry)
        self.recycle.pop(entry.id, None)
        self._gone[entry.id] = entry.kind
        for relation, source in list(self._reverse.get(entry.id, ())):
            self.unlink(relation, source, entry.id)
        for relation, sources in RELATIONS.items():
            if entry.kind in sources:
                for target in list(self._links.get((relation, entry.id), ())):
                    self.unlink(relation, entry.id, target)
        self._touch(entry.kind, entry.id, seq)

    def ids(self, kind: str, after: str | None = None) -> Iterator[str]:
        """Live ids of a kind in id order, starting after ``after``."""
        ids = self._ids.get(kind, [])
        start = 0 if after is None else bisect.bisect_right(ids, after)
        for position in range(start, len(ids)):
            yield ids[position]

    def count(self, kind: str) -> int:
        return len(self._ids.get(kind, ()))

    def entries(self, kind: str, after: str | None = None) -> Iterator[Entry]:
        """Live objects of a kind in id order."""
        for object_id in self.ids(kind, after):
            yield self.live[object_id]

    def find(self, kind: str, prop: str, value: str) -> list[Entry]:
        """Live objects whose indexed property equals ``value`` (case-insensitive)."""
        ids = self._index.get((kind, prop), {}).get(value.lower(), set())
        return [self.live[i] for i in sorted(ids) if i in self.live]

    def recycled(self, kind: str) -> list[Entry]:
        """Objects of a kind in the recycle bin, in id order."""
        return sorted((e for e in self.recycle.values() if e.kind == kind), key=lambda e: e.id)

    # --- links ---------------------------------------------------------------------

    def link(self, relation: str, source: str, target: str) -> bool:
        """Add a link; False if it was there already. Single-valued relations replace."""
        key = (relation, source)
        targets = self._links.setdefault(key, {})
        if target in targets:
            return False
        if relation in SINGLE_VALUED:
            for old in list(targets):
                self.unlink(relation, source, old)
        seq = self.next_seq()
        targets[target] = None
        self._reverse.setdefault(target, set()).add(key)
        if not self._loading:
            self._link_log.setdefault(key, {})[target] = LinkChange(seq, True)
        self._touch_source(source, seq)
        return True

    def unlink(self, relation: str, source: str, target: str) -> bool:
        """Remove a link; False if it was not there."""
        key = (relation, source)
        targets = self._links.get(key)
        if not targets or target not in targets:
            return False
        seq = self.next_seq()
        del targets[target]
        self._reverse.get(target, set()).discard(key)
        self._link_log.setdefault(key, {})[target] = LinkChange(seq, False)
        self._touch_source(source, seq)
        return True

    def targets(self, relation: str, source: str, *, live_only: bool = True) -> list[str]:
        """Link targets in the order they were added; soft-deleted ones hidden by default."""
        targets = self._links.get((relation, source), {})
        if not live_only:
            return list(targets)
        return [t for t in targets if t in self.live]

    def sources(self, relation: str, target: str) -> list[str]:
        """Objects that link to ``target`` through ``relation`` (memberOf, ownedObjects)."""
        return sorted(s for r, s in self._reverse.get(target, ()) if r == relation)

    def has_link(self, relation: str, source: str, target: str) -> bool:
        return target in self._links.get((relation, source), {})

    def link_changes(self, relation: str, source: str, since: int) -> list[tuple[str, bool]]:
        """Targets whose link changed after ``since``: (target, present now)."""
        log = self._link_log.get((relation, source), {})
        return [(t, change.present) for t, change in log.items() if change.seq > since]

    # --- change log ----------------------------------------------------------------

    def changed(self, kind: str, since: int) -> list[str]:
        """Ids of a kind changed after ``since`` (live, recycled or gone), oldest first."""
        log = self._changes.get(kind, {})
        recent: list[str] = []
        for object_id, seq in reversed(log.items()):
            if seq <= since:
                break
            recent.append(object_id)
        recent.reverse()
        return recent

    def kind_of(self, object_id: str) -> str | None:
        """The kind of an object, live, recycled or hard-deleted; None if never seen."""
        entry = self.live.get(object_id) or self.recycle.get(object_id)
        return entry.kind if entry is not None else self._gone.get(object_id)

    def is_gone(self, object_id: str) -> bool:
        """Whether an object was hard-deleted."""
        return object_id in self._gone

    def all_kinds(self) -> Iterable[str]:
        return self._ids.keys()

    # --- internals -----------------------------------------------------------------

    def _touch(self, kind: str, object_id: str, seq: int) -> None:
        log = self._changes.setdefault(kind, {})
        log.pop(object_id, None)
        log[object_id] = seq

    def _touch_source(self, source: str, seq: int) -> None:
        entry = self.live.get(source) or self.recycle.get(source)
        if entry is not None:
            entry.seq = seq
            self._touch(entry.kind, source, seq)

    def _unlist(self, entry: Entry) -> None:
        del self.live[entry.id]
        ids = self._ids[entry.kind]
        position = bisect.bisect_left(ids, entry.id)
        if position < len(ids) and ids[position] == entry.id:
            del ids[position]
        self._index_entry(entry, add=False)

    def _index_entry(self, entry: Entry, *, add: bool) -> None:
        for prop in INDEXED.get(entry.kind, ()):
            value = entry.data.get(prop)
            if not isinstance(value, str):
                continue
            bucket = self._index.setdefault((entry.kind, prop), {}).setdefault(value.lower(), set())
            if add:
                bucket.add(entry.id)
            else:
                bucket.discard(entry.id)
