"""A restore's report: one row per plan item (``done``, ``skipped`` or ``failed``, with
the reason and Graph's error), the id map, and what an administrator must do next.

``restore --json`` prints :meth:`RestoreReport.to_json` (with ``verification``, the
tenant compared with the snapshot after the run: :mod:`.verify`); ``restore-report --csv`` prints
:meth:`RestoreReport.to_csv`. The report is rebuilt from the journal when a run resumes, so
an item finished by an earlier run appears with ``resumed`` set.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, field
from typing import Any

from entra_backup.services.restore.verification import Verification

DONE = "done"
SKIPPED = "skipped"
FAILED = "failed"
NEEDS_ENABLING = "needs-enabling"
NEEDS_SECRETS = "needs-new-client-secrets"
CSV_COLUMNS = ("key", "action", "type", "object_id", "display_name", "relationship",
               "outcome", "reason", "new_id", "error_status", "error_code", "error_message",
               "notes", "resumed")


@dataclass
class ItemResult:
    """What happened to one plan item."""

    key: str
    action: str
    type: str
    object_id: str
    outcome: str
    reason: str = ""
    display_name: str | None = None
    relationship: str | None = None
    live_id: str | None = None
    new_id: str | None = None
    error_status: int | None = None
    error_code: str | None = None
    error_message: str | None = None
    notes: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    resumed: bool = False
    """True when the outcome comes from the journal of an earlier run."""


@dataclass
class RestoreReport:
    """Every item's outcome, the id map, and what an administrator must do next."""

    tenant: str
    snapshot: str
    started_at: str
    finished_at: str = ""
    items: list[ItemResult] = field(default_factory=list)
    id_map: dict[str, str] = field(default_factory=dict)
    """Old id -> new id of every re-created object."""
    app_id_map: dict[str, str] = field(default_factory=dict)
    """Old appId -> new appId of every re-created application."""
    verification: Verification | None = None
    """The tenant compared with the snapshot after the run (None: not verified)."""

    @property
    def counts(self) -> dict[str, int]:
        """Items per outcome, and in all."""
        counted = {DONE: 0, SKIPPED: 0, FAILED: 0}
        for item in self.items:
            counted[item.outcome] = counted.get(item.outcome, 0) + 1
        return {**counted, "total": len(self.items)}

    @property
    def ok(self) -> bool:
        """Whether no item failed."""
        return all(item.outcome != FAILED for item in self.items)

    @property
    def failed(self) -> list[ItemResult]:
        return [item for item in self.items if item.outcome == FAILED]

    @property
    def needs_enabling(self) -> list[ItemResult]:
        """Conditional Access policies created in report-only state that were enabled."""
        return [item for item in self.items if NEEDS_ENABLING in item.flags]

    @property
    def needs_new_secrets(self) -> list[ItemResult]:
        """Re-created applications that had client secrets (which cannot be restored)."""
        return [item for item in self.items if NEEDS_SECRETS in item.flags]

    def to_json(self) -> dict[str, Any]:
        """The report as ``restore --json`` prints it."""
        def brief(item: ItemResult) -> dict[str, Any]:
            return {"type": item.type, "object_id": item.object_id, "new_id": item.new_id,
                    "display_name": item.display_name}

        verified = {} if self.verification is None else \
            {"verification": self.verification.to_json()}
        return {"tenant": self.tenant, "snapshot": self.snapshot,
                "started_at": self.started_at, "finished_at": self.finished_at,
                "ok": self.ok, "counts": self.counts, "id_map": dict(self.id_map),
                "app_id_map": dict(self.app_id_map),
                "needs_enabling": [brief(i) for i in self.needs_enabling],
                "needs_new_client_secrets": [brief(i) for i in self.needs_new_secrets],
                "items": [asdict(item) for item in self.items], **verified}

    def to_csv(self) -> str:
        """One header line and one row per item."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for item in self.items:
            row = asdict(item)
            row["notes"] = "; ".join(item.notes)
            row["resumed"] = "yes" if item.resumed else ""
            writer.writerow(["" if row[c] is None else row[c] for c in CSV_COLUMNS])
        return out.getvalue()
