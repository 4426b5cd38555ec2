"""Graph writes with the service's semantics: creates, updates, deletes, links, secrets,
assignments; plus the recycle bin and ``getByIds``. See ``docs/emulator-writes.md``.

Control hooks (state kept per emulator): :func:`set_replication_lag`; the recycle bin's
:func:`purge_expired`.
"""

from __future__ import annotations

from graph_emulator.handlers.deleted_items import purge_expired

from .register import register
from .state import WriteState, set_replication_lag, write_state

__all__ = ["WriteState", "purge_expired", "register", "set_replication_lag", "write_state"]
