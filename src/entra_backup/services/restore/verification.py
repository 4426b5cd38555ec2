"""What a restore's verification found: the figures of its headline and every difference
left, each with the object, the property or relationship and the reason.

Pure data, shared by :mod:`.verify` (which computes it), :mod:`.report` (which saves it
with the run's report under ``"verification"``) and the restore command (which prints it
and turns an unexplained difference into :class:`RestoreNotVerified`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from entra_backup.domain.errors import EntraBackupError

GRAPH_REFUSED = "Graph refused"
REWRITTEN = "changed during the restore"
NOT_RESTORED = "not restored"


class RestoreNotVerified(EntraBackupError):
    """After a restore (or ``--verify-only``), something in scope still differs from the
    snapshot without an accepted reason."""

    exit_code = 36


@dataclass(frozen=True)
class Difference:
    """One object, or one relationship of an object, still unlike the snapshot."""

    type: str
    object_id: str
    what: str
    """``object`` (missing, or to remove), the properties that differ, or a relationship."""
    reason: str
    accepted: bool
    """True where a restore must not write it (synced from on-premises, a dynamic
    membership, not restorable): it is listed but does not fail the verification."""
    display_name: str | None = None
    edges: int = 0
    """For a relationship: how many edges differ (0: the relationship as a whole)."""

    def line(self) -> str:
        name = f" ({self.display_name})" if self.display_name else ""
        count = f", {self.edges} edges" if self.edges else ""
        return f"{self.type}/{self.object_id}{name}: {self.what}{count}: {self.reason}"


@dataclass
class Verification:
    """The headline of a verification and the differences it found."""

    objects: int = 0
    """Objects in scope (the snapshot's objects of the restored selection)."""
    relationships: int = 0
    """Edges in scope (members, owners, managers, assignments of those objects)."""
    objects_equal: int = 0
    relationships_equal: int = 0
    fixed_objects: int = 0
    """Objects the second pass wrote and found equal afterwards."""
    fixed_relationships: int = 0
    """Edges the second pass wrote and found equal afterwards."""
    differences: list[Difference] = field(default_factory=list)
    not_compared: dict[str, list[str]] = field(default_factory=dict)
    """Per type, the properties a restore may not write, left out of the comparison."""
    second_pass: bool = False
    """Whether a second pass wrote anything."""

    @property
    def unexplained(self) -> list[Difference]:
        return [d for d in self.differences if not d.accepted]

    @property
    def ok(self) -> bool:
        """Nothing in scope differs without an accepted reason."""
        return not self.unexplained

    @property
    def restorable(self) -> int:
        """Objects and edges in scope, less those with an accepted difference."""
        accepted = sum(max(d.edges, 1) for d in self.differences if d.accepted)
        return max(self.objects + self.relationships - accepted, 0)

    @property
    def percent(self) -> float:
        """Equal objects and edges as a share of what is restorable (100.0 when none)."""
        equal = self.objects_equal + self.relationships_equal
        if not self.restorable:
            return 100.0
        return round(min(100.0, 100.0 * equal / self.restorable), 2)

    def headline(self) -> str:
        left = len(self.unexplained)
        accepted = len(self.differences) - left
        return (f"Verified: {self.objects_equal} of {self.objects} objects and "
                f"{self.relationships_equal} of {self.relationships} relationships equal "
                f"to the snapshot ({self.percent:g} % of what is restorable); "
                f"{self.fixed_objects} objects and {self.fixed_relationships} relationships "
                f"fixed by a second pass; {left} still different, {accepted} left with a "
                f"reason")

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "percent": self.percent,
                "objects": self.objects, "relationships": self.relationships,
                "objects_equal": self.objects_equal,
                "relationships_equal": self.relationships_equal,
                "fixed_objects": self.fixed_objects,
                "fixed_relationships": self.fixed_relationships,
                "second_pass": self.second_pass,
                "still_different": len(self.unexplained),
                "accepted_differences": len(self.differences) - len(self.unexplained),
                "differences": [asdict(d) for d in self.differences],
                "not_compared": {k: list(v) for k, v in self.not_compared.items()}}

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Verification:
        return cls(objects=int(value.get("objects", 0)),
                   relationships=int(value.get("relationships", 0)),
                   objects_equal=int(value.get("objects_equal", 0)),
                   relationships_equal=int(value.get("relationships_equal", 0)),
                   fixed_objects=int(value.get("fixed_objects", 0)),
                   fixed_relationships=int(value.get("fixed_relationships", 0)),
                   differences=[Difference(**d) for d in value.get("differences", ())],
                   not_compared={k: list(v) for k, v in
                                 (value.get("not_compared") or {}).items()},
                   second_pass=bool(value.get("second_pass", False)))

    def failure(self) -> RestoreNotVerified:
        """The error a command ends with when something still differs unexplained."""
        first = self.unexplained[0].line() if self.unexplained else ""
        return RestoreNotVerified(
            f"{len(self.unexplained)} objects or relationships in scope differ from the "
            f"snapshot without an accepted reason (first: {first})")
