"""Objects Graph will not write: directory-synced ones, mail-enabled security groups and
distribution lists, dynamic memberships; and the replication lag after a create."""

from __future__ import annotations

from typing import Any

from graph_emulator.context import Context
from graph_emulator.model.directory import Entry
from graph_emulator.protocol import GraphError

from .state import write_state

SYNCED_MESSAGE = ("Unable to update the specified properties for on-premises mastered Directory "
                  "Sync objects or objects currently undergoing migration.")
MAIL_ENABLED_MESSAGE = "Cannot Update a mail-enabled security groups and or distribution list."
LAG_MESSAGE = "The source resource object or one of the objects being referenced do not exist"
ROLE_PERMISSION = "RoleManagement.ReadWrite.Directory"


def is_synced(data: dict[str, Any]) -> bool:
    return data.get("onPremisesSyncEnabled") is True


def is_unified(data: dict[str, Any]) -> bool:
    return "Unified" in (data.get("groupTypes") or [])


def is_dynamic(data: dict[str, Any]) -> bool:
    return "DynamicMembership" in (data.get("groupTypes") or [])


def is_mail_enabled_security(data: dict[str, Any]) -> bool:
    """Mail-enabled security groups and distribution lists: Exchange owns them."""
    return bool(data.get("mailEnabled")) and not is_unified(data)


def check_not_synced(entry: Entry) -> None:
    """Refuse a write to an object AD Connect masters."""
    if is_synced(entry.data):
        raise GraphError(400, "Request_BadRequest", SYNCED_MESSAGE)


def check_group_writable(entry: Entry) -> None:
    """Refuse writes to synced groups, mail-enabled security groups and distribution lists."""
    check_not_synced(entry)
    if is_mail_enabled_security(entry.data):
        raise GraphError(400, "Request_BadRequest", MAIL_ENABLED_MESSAGE)


def check_role_assignable(ctx: Context, entry: Entry) -> None:
    """Changing a role-assignable group also needs RoleManagement.ReadWrite.Directory."""
    if entry.kind == "groups" and entry.data.get("isAssignableToRole") is True:
        ctx.require(ROLE_PERMISSION)


def check_replicated(ctx: Context, *entries: Entry) -> None:
    """Refuse a link write naming an object created less than the lag ago."""
    state = write_state(ctx.emulator)
    if state.replication_lag <= 0:
        return
    now = ctx.clock.now()
    for entry in entries:
        born = state.created_at.get((ctx.tenant.tenant_id, entry.id))
        if born is not None and now - born < state.replication_lag:
            raise GraphError(400, "Request_BadRequest", LAG_MESSAGE)
