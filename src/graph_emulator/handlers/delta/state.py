"""Per-emulator delta settings and the control hooks that steer them.

The state lives beside the emulator (a weak mapping keyed by the :class:`Emulator`), so the
core classes need no delta-specific attributes and a discarded emulator takes its state
with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from graph_emulator.emulator import Emulator

SEVEN_DAYS = 7 * 86400.0
"""Directory delta tokens are valid for seven days (delta-query-overview, "Token duration")."""


@dataclass
class DeltaState:
    """How the emulator pages delta rounds, replays objects and expires tokens."""

    page_size: int = 200
    """Objects per page; the real service's users/delta pages hold up to about 200."""
    member_budget: int = 1000
    """``<nav>@delta`` references per page; a larger group is split across pages."""
    replay_rate: float = 0.0
    """Chance that an emitted object is repeated later in the same round (0: off)."""
    seed: int = 0
    token_lifetime: float = SEVEN_DAYS
    generations: dict[str, int] = field(default_factory=dict)
    """Per tenant: tokens issued under an older generation answer 410 (a forced reset)."""
    changed_cache: dict[tuple[str, str, int], tuple[int, list[str]]] = field(
        default_factory=dict
    )
    """(tenant, kind, since) -> (directory seq when computed, changed ids in id order)."""

    def generation(self, tenant_id: str) -> int:
        return self.generations.get(tenant_id, 0)


def delta_state(emulator: Emulator) -> DeltaState:
    """The delta state of an emulator, created with defaults on first use."""
    return emulator.extension(DeltaState)


def reset_delta_tokens(emulator: Emulator, tenant_id: str) -> int:
    """Invalidate every delta and skip token issued so far for a tenant.

    Later calls with those tokens answer ``410 Gone`` with a ``Location`` to restart from
    a full round, as the service does after tenant maintenance. Returns the new generation.
    """
    if tenant_id not in emulator.tenants:
        raise KeyError(f"unknown tenant '{tenant_id}'")
    state = delta_state(emulator)
    state.generations[tenant_id] = state.generation(tenant_id) + 1
    return state.generations[tenant_id]


def set_replay_rate(emulator: Emulator, rate: float, *, seed: int | None = None) -> None:
    """Repeat about ``rate`` of the emitted objects later in the same round (0 turns it off)."""
    if not 0.0 <= rate <= 1.0:
        raise ValueError("the replay rate must be between 0 and 1")
    state = delta_state(emulator)
    state.replay_rate = rate
    if seed is not None:
        state.seed = seed


def set_paging(emulator: Emulator, *, page_size: int | None = None,
               member_budget: int | None = None) -> None:
    """Change how many objects and member references a delta page holds."""
    state = delta_state(emulator)
    for name, value in (("page_size", page_size), ("member_budget", member_budget)):
        if value is None:
            continue
        if value < 1:
            raise ValueError(f"'{name}' must be at least 1")
        setattr(state, name, value)
