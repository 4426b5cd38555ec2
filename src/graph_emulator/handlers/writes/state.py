"""Per-emulator write settings: the replication lag a test can switch on.

Kept beside the emulator in a weak mapping (as the delta settings are), so the core classes
carry nothing write-specific and a discarded emulator takes its state with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from graph_emulator.emulator import Emulator


@dataclass
class WriteState:
    """How long new objects stay invisible to link writes, and when each was created."""

    replication_lag: float = 0.0
    """Seconds (emulator clock) during which a just-created object cannot be linked."""
    created_at: dict[tuple[str, str], float] = field(default_factory=dict)
    """(tenant id, object id) -> creation time, for objects created through the API."""


def write_state(emulator: Emulator) -> WriteState:
    """The write state of an emulator, created with defaults on first use."""
    return emulator.extension(WriteState)


def set_replication_lag(emulator: Emulator, seconds: float) -> None:
    """Make objects created from now on unlinkable for ``seconds`` (0 turns the lag off)."""
    if seconds < 0:
        raise ValueError("the replication lag cannot be negative")
    write_state(emulator).replication_lag = float(seconds)
