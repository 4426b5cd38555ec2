"""Installing throttling and fault injection into an emulator, and steering them.

:func:`install` appends the gates to ``emulator.gates`` (throttling first, so a call that
a fault then fails has still been charged) and returns :class:`GateHandles`, which the
control endpoint uses to change the fault rate, the seed and the throttle mode, and to
read the counters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graph_emulator.faults import Faults, check_rate
from graph_emulator.handlers.batch import set_batch_seed
from graph_emulator.throttle import RetryLedger, Throttle, check_mode

if TYPE_CHECKING:
    from graph_emulator.emulator import Emulator


@dataclass
class GateHandles:
    """The installed gates of one emulator."""

    emulator: Emulator
    throttle: Throttle
    faults: Faults
    ledger: RetryLedger

    def configure(self, settings: dict[str, Any]) -> None:
        """Apply ``throttle``, ``fault_rate``, ``seed`` and ``retry_grace`` when present.

        Every value is checked before any is applied, so a bad request changes nothing.
        """
        mode = check_mode(str(settings["throttle"])) if "throttle" in settings else None
        rate = check_rate(_number(settings, "fault_rate")) if "fault_rate" in settings else None
        seed = int(_number(settings, "seed")) if "seed" in settings else None
        grace = _number(settings, "retry_grace") if "retry_grace" in settings else None
        if grace is not None and not 0 <= grace <= 60:
            raise ValueError("'retry_grace' must be between 0 and 60 seconds")
        if mode is not None:
            self.throttle.mode = mode
        if rate is not None:
            self.faults.rate = rate
        if seed is not None:
            self.faults.reseed(seed)
            set_batch_seed(self.emulator, seed)
        if grace is not None:
            self.ledger.grace = grace

    def settings(self) -> dict[str, Any]:
        """Current settings and counters, for ``GET /_control/.../settings``."""
        return {
            "throttle": self.throttle.mode,
            "fault_rate": self.faults.rate,
            "seed": self.faults.seed,
            "retry_grace": self.ledger.grace,
            **self.counters(),
        }

    def counters(self) -> dict[str, Any]:
        """429s by limit, faults by kind, and requests that came before Retry-After."""
        return {
            "throttled": dict(self.throttle.throttled),
            "faults_injected": dict(self.faults.injected),
            "retried_too_early": self.ledger.too_early,
            "retried_too_early_by_app": [
                {"tenant_id": tenant, "client_id": app, "count": count}
                for (tenant, app), count in sorted(self.ledger.too_early_by_app.items())
            ],
        }


def install(emulator: Emulator, *, throttle: str, fault_rate: float, seed: int) -> GateHandles:
    """Add throttling (``real`` or ``off``) and seeded faults to ``emulator``."""
    ledger = RetryLedger()
    handles = GateHandles(emulator, Throttle(throttle, ledger), Faults(fault_rate, seed, ledger),
                          ledger)
    emulator.gates.append(handles.throttle)
    emulator.gates.append(handles.faults)
    set_batch_seed(emulator, seed)
    return handles


def _number(settings: dict[str, Any], name: str) -> float:
    value = settings[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"'{name}' must be a number")
    return float(value)


install_gates = install
"""The name the runtime imports."""
