"""Undelete, update and remove: items of one request each, which may share a ``$batch``.

* undelete: ``POST /directory/deletedItems/{id}/restore``; the id stays. An object that is
  already live again (a run stopped before its journal line) counts as done.
* update: ``PATCH`` of the item's properties with their stored values (ids remapped);
  ``assignedLicenses`` through the type's ``assignLicense`` action, computed against the
  live licences; a singleton (the authorization policy) is patched at its path.
* remove: ``DELETE {type path}/{id}`` (soft delete); already gone counts as done.

:func:`prepare` builds the request (or an outcome when nothing needs sending) and
:func:`conclude` reads Graph's answer, so the executor can send prepared requests alone
or twenty to a ``$batch``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from entra_backup.domain.object_ids import path_segment
from entra_backup.domain.object_types import ObjectType, by_name
from entra_backup.domain.restore.plan import Action, PlanItem
from entra_backup.graph.errors import GraphClientError, NotFound
from entra_backup.services.restore.context import Outcome, RunContext
from entra_backup.services.restore.report import DONE, FAILED
from entra_backup.services.restore.requests import (
    FATAL,
    Write,
    action_path,
    first_line,
    is_live,
    object_path,
    plain,
)


def prepare(ctx: RunContext, item: PlanItem) -> Write | Outcome:
    """The request of an undelete, update or remove item."""
    object_type = by_name(item.type)
    if item.action is Action.UNDELETE:
        deleted = path_segment("directoryObjects", item.object_id)
        return Write("POST", f"/directory/deletedItems/{deleted}/restore")
    if item.action is Action.REMOVE:
        if object_type.singleton:
            return Outcome(FAILED, f"{item.type} is a singleton and cannot be removed")
        return Write("DELETE", object_path(object_type, item.object_id))
    return _update_write(ctx, object_type, item)


async def run(ctx: RunContext, item: PlanItem) -> Outcome:
    """Prepare, send and conclude one item on its own."""
    prepared = prepare(ctx, item)
    if isinstance(prepared, Outcome):
        return prepared
    if item.action is Action.UPDATE and not plain(prepared.body):
        return await _update_actions(ctx, item, list(prepared.notes))
    try:
        answer = await ctx.send(prepared)
    except FATAL:
        raise
    except GraphClientError as exc:
        return await conclude(ctx, item, prepared, exc, {})
    return await conclude(ctx, item, prepared, None, answer)


async def conclude(ctx: RunContext, item: PlanItem, write: Write,
                   error: GraphClientError | None, answer: Mapping[str, Any]) -> Outcome:
    """The outcome of ``write`` from Graph's answer or error."""
    notes = list(write.notes)
    if item.action is Action.UNDELETE:
        if error is None:
            restored = str(answer.get("id") or item.object_id)
            ctx.ids.match(item.object_id, restored)
            return Outcome(DONE, new_id=restored, notes=notes)
        path = object_path(by_name(item.type), item.object_id)
        if isinstance(error, NotFound) and await is_live(ctx.client, path):
            ctx.ids.match(item.object_id, item.object_id)
            return Outcome(DONE, new_id=item.object_id, notes=[*notes, "already restored"])
        return Outcome(FAILED, first_line(error), error=error, notes=notes)
    if item.action is Action.REMOVE and isinstance(error, NotFound):
        return Outcome(DONE, notes=[*notes, "already gone"])
    if error is not None:
        return Outcome(FAILED, first_line(error), error=error, notes=notes)
    if item.action is Action.UPDATE:
        return await _update_actions(ctx, item, notes)
    return Outcome(DONE, notes=notes)


def _update_write(ctx: RunContext, object_type: ObjectType, item: PlanItem
                  ) -> Write | Outcome:
    document = ctx.document(item)
    target = ctx.ids.live(item.object_id, item.live_id)
    actions = dict(object_type.property_actions)
    relationships = {r.name for r in object_type.relationships}
    body: dict[str, Any] = {}
    notes: list[str] = []
    for name in item.properties:
        if name in actions:
            continue
        if name in object_type.strip_on_update or name in relationships:
            notes.append(f"{name} is not writable by an update; left out")
        elif name not in document:
            notes.append(f"{name} is not in the snapshot; left out")
        else:
            body[name] = document[name]
    body = ctx.ids.remapped(body)
    if not body and not any(name in actions for name in item.properties):
        return Outcome(DONE, "nothing left to write", notes=notes)
    if object_type.derived_types and "@odata.type" in document:
        body["@odata.type"] = document["@odata.type"]
    path = object_type.path if object_type.singleton else object_path(object_type, target)
    return Write("PATCH", path, body, notes)


async def _update_actions(ctx: RunContext, item: PlanItem, notes: list[str]) -> Outcome:
    """Properties written through an action (``assignedLicenses``)."""
    object_type = by_name(item.type)
    actions = dict(object_type.property_actions)
    target = ctx.ids.live(item.object_id, item.live_id)
    for name in item.properties:
        if name not in actions:
            continue
        if name != "assignedLicenses":
            notes.append(f"{name} is written through {actions[name]}, which a restore "
                         "does not call; left out")
            continue
        try:
            live = await ctx.client.get(object_path(object_type, target),
                                        {"$select": "assignedLicenses"})
        except FATAL:
            raise
        except GraphClientError as exc:
            notes.append(f"licences not restored: the live licences could not be read "
                         f"({first_line(exc)})")
            continue
        change = license_change(ctx.document(item).get("assignedLicenses"),
                                live.get("assignedLicenses"))
        if change is not None:
            await ctx.client.post(action_path(actions[name], object_type, target), change)
    return Outcome(DONE, notes=notes)


def license_change(stored: Any, live: Any) -> dict[str, Any] | None:
    """The ``assignLicense`` body that turns the live licences into the stored ones, or
    None when they already agree."""
    def by_sku(value: Any) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for entry in value or []:
            if isinstance(entry, dict) and entry.get("skuId"):
                found[str(entry["skuId"])] = sorted(str(p) for p in
                                                    entry.get("disabledPlans") or [])
        return found

    want, have = by_sku(stored), by_sku(live)
    add = [{"skuId": sku, "disabledPlans": plans} for sku, plans in sorted(want.items())
           if have.get(sku) != plans]
    remove = sorted(sku for sku in have if sku not in want)
    if not add and not remove:
        return None
    return {"addLicenses": add, "removeLicenses": remove}
