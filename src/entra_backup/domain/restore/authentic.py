"""Saved restore plans are authenticated: a MAC over their canonical JSON.

A plan file is executed later, exactly as written, with the restore app's write
permissions; whoever can edit it between review and execution could otherwise turn an
``update`` into a ``remove`` or point an item at another object. So the plan carries a
``mac`` field: HMAC-SHA256, keyed from the repository's master key (the store derives
the key; this module only takes the MAC function), over the canonical JSON of every
other field of the file. A plan whose MAC is missing or wrong is refused with
:class:`PlanNotAuthentic`.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from typing import Any

from entra_backup.domain.canonical import NotCanonicalisable, canonical_bytes
from entra_backup.domain.errors import EntraBackupError

Mac = Callable[[bytes], bytes]
"""The MAC of some bytes under a key the caller holds (``RepositoryKeys.plan_mac``)."""
MAC_FIELD = "mac"


class PlanNotAuthentic(EntraBackupError):
    """A saved restore plan whose MAC is missing or wrong: changed after it was made, or
    made for another repository."""

    exit_code = 27


def seal_plan(value: Mapping[str, Any], mac: Mac) -> dict[str, Any]:
    """``value`` with its ``mac`` field (any earlier one replaced)."""
    fields = {k: v for k, v in value.items() if k != MAC_FIELD}
    return {**fields, MAC_FIELD: mac(canonical_bytes(fields)).hex()}


def check_plan(value: Mapping[str, Any], mac: Mac, source: str) -> None:
    """Raise PlanNotAuthentic unless ``value`` carries the right MAC of the rest of it."""
    given = value.get(MAC_FIELD)
    if not isinstance(given, str):
        raise PlanNotAuthentic(f"{source} has no MAC: it was not made by 'restore --dry-run "
                               "--json' of this version; make the plan again")
    fields = {k: v for k, v in value.items() if k != MAC_FIELD}
    try:
        expected = mac(canonical_bytes(fields)).hex()
    except NotCanonicalisable as exc:
        raise PlanNotAuthentic(f"{source} is not a plan this repository made: {exc}") from exc
    if not hmac.compare_digest(given, expected):
        raise PlanNotAuthentic(f"{source} does not authenticate: the plan was changed after "
                               "it was made, or made for another repository; make the "
                               "plan again (restore --dry-run --json)")
