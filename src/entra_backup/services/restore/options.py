"""What a restore covers and how it treats what differs (``restore`` options, recorded in
a plan file)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from entra_backup.domain.errors import UsageError
from entra_backup.domain.restore.plan import CaState

SettingsMode = Literal["overwrite", "skip"]


@dataclass(frozen=True)
class RestoreOptions:
    """What a restore covers and how it treats what differs."""

    types: tuple[str, ...] = ()
    """Object types to restore; empty: every type the snapshot holds completely."""
    object_ids: tuple[str, ...] = ()
    """Only these objects (ids as the snapshot names them); empty: every object."""
    relationships: bool = True
    """Restore members, owners, managers and assignments too."""
    deleted_only: bool = False
    """Bring back deleted objects only: no update of a live object, no edge of one
    except to or from a re-created object."""
    settings: SettingsMode = "overwrite"
    """``skip`` leaves tenant settings (authorization policy, group settings) as they are."""
    remove_new: bool = False
    """Also remove objects and edges created after the snapshot."""
    ca_state: CaState = "report-only"
    """State of re-created Conditional Access policies: report-only, or as backed up."""

    def __post_init__(self) -> None:
        if self.settings not in get_args(SettingsMode):
            raise UsageError(f"--settings must be overwrite or skip, not {self.settings!r}")
        if self.ca_state not in get_args(CaState):
            raise UsageError(f"--ca-state must be report-only or as-backed-up, not "
                             f"{self.ca_state!r}")

    def to_json(self) -> dict[str, Any]:
        """The options as a plan file records them."""
        return {"types": list(self.types), "object_ids": list(self.object_ids),
                "relationships": self.relationships, "deleted_only": self.deleted_only,
                "settings": self.settings, "remove_new": self.remove_new,
                "ca_state": self.ca_state}

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> RestoreOptions:
        """Parse the recorded form (missing keys take their defaults)."""
        return cls(types=tuple(value.get("types", ())),
                   object_ids=tuple(value.get("object_ids", ())),
                   relationships=bool(value.get("relationships", True)),
                   deleted_only=bool(value.get("deleted_only", False)),
                   settings=value.get("settings", "overwrite"),
                   remove_new=bool(value.get("remove_new", False)),
                   ca_state=value.get("ca_state", "report-only"))
