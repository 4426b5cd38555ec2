"""Delta queries (``GET {collection}/delta``) for every directory collection that has them.

Round 1 pages through what exists; the last page carries a deltaLink whose token holds
the directory sequence number the round started at, the kind, ``$select`` and the id
filter. Later rounds report what changed after it. See ``docs/emulator-delta.md``.

Control hooks (state kept per emulator, see :mod:`.state`): :func:`reset_delta_tokens`,
:func:`set_replay_rate`, :func:`set_paging`.
"""

from __future__ import annotations

from functools import partial

from graph_emulator.model.kinds import KINDS
from graph_emulator.routing import Router

from .endpoint import serve_delta
from .state import DeltaState, delta_state, reset_delta_tokens, set_paging, set_replay_rate

__all__ = [
    "DeltaState", "delta_state", "register", "reset_delta_tokens", "serve_delta",
    "set_paging", "set_replay_rate",
]

SUFFIXES = ("delta", "delta()", "microsoft.graph.delta", "microsoft.graph.delta()")
"""``/delta`` is a shortcut for the fully qualified ``/microsoft.graph.delta`` the SDKs
send; the endpoint list writes it ``delta()`` (delta-query-users, tip)."""

MEMBER_READ = ("GroupMember.Read.All", "GroupMember.ReadWrite.All")
READ_COST = {"users": 2, "applications": 2, "oauth2PermissionGrants": 2}
"""Base resource units: the documented cost of reading the collection (unverified for
the delta path itself, graph-facts section 4.2)."""


def register(router: Router) -> None:
    """Add the delta routes of every kind that supports delta."""
    for kind, spec in KINDS.items():
        if not spec.delta:
            continue
        permissions = spec.read + (MEMBER_READ if kind == "groups" else ())
        for suffix in SUFFIXES:
            router.add("GET", f"{spec.path}/{suffix}", partial(serve_delta, kind=kind),
                       permissions, resource_units=READ_COST.get(kind, 1))
