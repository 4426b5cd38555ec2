"""A restore proves its result: the live tenant read back and compared with the snapshot,
what is still missing written in a second pass, and what is left named with its reason.

The comparison is the planner's own (:func:`~.plan.plan_selection`), run again against the
tenant as the restore left it, through the id map of every restore so far (this run's
re-creations included): whatever a plan would still write is a difference, whatever it
would skip is a difference with an accepted reason (synced from on-premises, a dynamic
membership, not restorable ...), and the properties a restore may not write are left out
of the comparison and listed (``not_compared``). A second comparison would be a second
truth; this one cannot disagree with what a repeated restore would do.

Why a second pass is needed at all: an undelete brings back only the links that existed
when the object was deleted, and of those only the ones Microsoft documents as kept
(``docs/emulator-writes.md``, "What an undelete brings back"). A user taken out of its
groups and given another manager before it was deleted comes back without them, which the
plan, made while the user was in the recycle bin, could not see. The second pass writes
the missing edges first (memberships, owners, manager), then properties, then (with
``--remove-new``) removes edges added since; objects themselves are not undeleted or
re-created again (the first pass did that or failed with Graph's error). The tenant is
then compared once more and the result is what the report's ``verification`` holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from entra_backup.domain.errors import EntraBackupError
from entra_backup.domain.object_types import ObjectType, restore_order
from entra_backup.domain.restore.plan import Action, PlanItem, RestorePlan
from entra_backup.graph.client import GraphClient
from entra_backup.graph.errors import GraphClientError
from entra_backup.services.restore import edges, simple_items
from entra_backup.services.restore.context import Outcome, RunContext
from entra_backup.services.restore.ids import DependencyFailed, EarlierRestores
from entra_backup.services.restore.live_side import SnapshotDocuments, read_live
from entra_backup.services.restore.options import RestoreOptions
from entra_backup.services.restore.plan import plan_selection
from entra_backup.services.restore.report import DONE, FAILED, NEEDS_ENABLING, RestoreReport
from entra_backup.services.restore.requests import FATAL, first_line
from entra_backup.services.restore.selection import Selection, select
from entra_backup.services.restore.verification import (
    GRAPH_REFUSED,
    NOT_RESTORED,
    REWRITTEN,
    Difference,
    Verification,
)
from entra_backup.store.repository import Repository
from entra_backup.store.snapshot import Snapshot

Key = tuple[str, str, str, str]
"""(action, type, object id, relationship) of a plan item, across plans."""

Written = tuple[PlanItem, Outcome]
"""A second-pass item and how it ended."""

SECOND_PASS = (Action.ADD_EDGES, Action.UPDATE, Action.REMOVE_EDGES)
"""What the second pass writes, in this order: edges first."""


def item_key(action: str, type_name: str, object_id: str, relationship: str | None) -> Key:
    return (action, type_name, object_id, relationship or "")


async def verify_only(client: GraphClient, repo: Repository, snapshot: Snapshot,
                      options: RestoreOptions, earlier: EarlierRestores) -> Verification:
    """The verification alone: the tenant compared with the snapshot, nothing written."""
    selection = select(repo, snapshot, options)
    residual = await _residual(client, repo, snapshot, selection, options, known=earlier)
    return _verification(repo, snapshot, selection, options, residual=residual,
                         failures={}, second={})


async def verify_run(ctx: RunContext, plan: RestorePlan, report: RestoreReport,
                     earlier: EarlierRestores) -> Verification:
    """After a run's steps: compare, write what is still missing, compare again."""
    options = RestoreOptions.from_json(plan.options)
    # The plan's matches stand for their snapshot objects, as in the plan: without them a
    # re-created object of an earlier run would look new, and its edges added after the
    # snapshot (--remove-new) would be removed by the second pass.
    known = with_run(replace(earlier, ids={**plan.matched, **earlier.ids}), report)
    selection = select(ctx.repo, ctx.snapshot, options)
    residual = await _residual(ctx.client, ctx.repo, ctx.snapshot, selection, options,
                               known=known)
    writable = [item for item in residual.items if item.action in SECOND_PASS]
    second: dict[Key, Written] = {}
    if writable:
        second = await _second_pass(ctx, residual, writable)
        residual = await _residual(ctx.client, ctx.repo, ctx.snapshot, selection, options,
                                   known=known)
    verification = _verification(ctx.repo, ctx.snapshot, selection, options,
                                 residual=residual, failures=_failures(report),
                                 second=second)
    verification.second_pass = any(o.outcome == DONE for _, o in second.values())
    return verification


def with_run(earlier: EarlierRestores, report: RestoreReport) -> EarlierRestores:
    """``earlier`` and what this run re-created (this run's word wins)."""
    ids = {**earlier.ids, **report.id_map}
    app_ids = {**earlier.app_ids, **report.app_id_map}
    report_only = set(earlier.report_only)
    for item in report.items:
        if item.action == Action.RECREATE.value and item.new_id:
            if NEEDS_ENABLING in item.flags:
                report_only.add(item.object_id)
            else:
                report_only.discard(item.object_id)
    return EarlierRestores(ids, app_ids, frozenset(report_only))


async def _residual(client: GraphClient, repo: Repository, snapshot: Snapshot,
                    selection: Selection, options: RestoreOptions, *,
                    known: EarlierRestores) -> RestorePlan:
    """What a restore repeated now would still do: the planner against the live tenant."""
    live = await read_live(client, snapshot, selection.read())
    return plan_selection(repo, snapshot, live, selection, options, known_ids=known)


# --- the second pass -----------------------------------------------------------------------


async def _second_pass(ctx: RunContext, residual: RestorePlan,
                       items: list[PlanItem]) -> dict[Key, Written]:
    """Write ``items``, edges first. Not journaled: a run killed here is verified again
    when it resumes, which finds what is still missing from the tenant itself."""
    for old_id, live_id in residual.matched.items():
        ctx.ids.match(old_id, live_id)
    ctx.bound = {}  # the first pass's creates are done; every missing edge is written
    done: dict[Key, Written] = {}
    for item in sorted(items, key=lambda i: SECOND_PASS.index(i.action)):
        key = item_key(item.action.value, item.type, item.object_id, item.relationship)
        done[key] = (item, await _write(ctx, item))
    return done


async def _write(ctx: RunContext, item: PlanItem) -> Outcome:
    try:
        if item.action is Action.ADD_EDGES:
            return await edges.add_edges(ctx, item)
        if item.action is Action.REMOVE_EDGES:
            return await edges.remove_edges(ctx, item)
        return await simple_items.run(ctx, item)
    except FATAL:
        raise
    except DependencyFailed as exc:
        return Outcome(FAILED, str(exc))
    except GraphClientError as exc:
        return Outcome(FAILED, first_line(exc), error=exc)
    except EntraBackupError as exc:
        return Outcome(FAILED, exc.message)


def _failures(report: RestoreReport) -> dict[Key, str]:
    """Graph's word on each item of the first pass that failed."""
    return {item_key(i.action, i.type, i.object_id, i.relationship):
            i.error_message or i.reason for i in report.items if i.outcome == FAILED}


# --- the figures ---------------------------------------------------------------------------


def _verification(repo: Repository, snapshot: Snapshot, selection: Selection,
                  options: RestoreOptions, *, residual: RestorePlan,
                  failures: Mapping[Key, str], second: Mapping[Key, Written]
                  ) -> Verification:
    objects, relationships = _scope(repo, snapshot, selection, options)
    differences = [_difference(item, failures, second) for item in residual.items]
    left = {item_key(i.action.value, i.type, i.object_id, i.relationship)
            for i in residual.items}
    fixed = [item for key, (item, outcome) in second.items()
             if outcome.outcome == DONE and key not in left]
    edge_items = {(i.type, i.object_id, i.relationship or ""): len(i.edges)
                  for i in residual.items if i.action is Action.ADD_EDGES}
    missing_edges = sum(edge_items.values()) + sum(
        1 for i in residual.items if i.action is Action.SKIP and i.relationship)
    differing = {(i.type, i.object_id) for i in residual.items
                 if not i.relationship and i.action is not Action.REMOVE}
    return Verification(
        objects=objects, relationships=relationships,
        objects_equal=max(objects - len(differing), 0),
        relationships_equal=max(relationships - missing_edges, 0),
        fixed_objects=sum(1 for item in fixed if item.action is Action.UPDATE),
        fixed_relationships=sum(len(item.edges) for item in fixed),
        differences=differences, not_compared=_not_compared(selection.types))


def _difference(item: PlanItem, failures: Mapping[Key, str],
                second: Mapping[Key, Written]) -> Difference:
    key = item_key(item.action.value, item.type, item.object_id, item.relationship)
    what = item.relationship or (", ".join(item.properties) if item.action is Action.UPDATE
                                 else "object")
    count = len(item.edges)
    if item.action is Action.SKIP:
        return Difference(item.type, item.object_id, what, item.reason, True,
                          item.display_name, count)
    outcome = second[key][1] if key in second else None
    refused = failures.get(key) or (outcome.reason if outcome is not None
                                    and outcome.outcome == FAILED else None)
    if refused is not None:
        reason = f"{GRAPH_REFUSED}: {refused}"
    elif outcome is not None:
        reason = f"{REWRITTEN}: the second pass wrote it and it differs again"
    elif item.action in (Action.UNDELETE, Action.RECREATE):
        reason = f"{NOT_RESTORED}: {item.reason}"
    else:
        reason = _without_properties(item)
    return Difference(item.type, item.object_id, what, reason, False, item.display_name,
                      count)


def _without_properties(item: PlanItem) -> str:
    """The plan's reason less its trailing list of properties, which ``what`` holds."""
    listed = ", ".join(item.properties)
    if listed and item.reason.endswith(f": {listed}"):
        return item.reason[:-len(listed) - 2]
    return item.reason


def _scope(repo: Repository, snapshot: Snapshot, selection: Selection,
           options: RestoreOptions) -> tuple[int, int]:
    """Objects and edges of the selection in the snapshot."""
    stored = SnapshotDocuments(repo, snapshot)
    objects = relationships = 0
    for object_type in restore_order(selection.types):
        wanted = None if selection.object_ids is None else \
            selection.object_ids.get(object_type.name, set())
        for object_id, document in stored.objects(object_type.name):
            if wanted is not None and object_id not in wanted:
                continue
            objects += 1
            if options.relationships:
                relationships += _edges_of(object_type, document)
    return objects, relationships


def _edges_of(object_type: ObjectType, document: Mapping[str, Any]) -> int:
    count = 0
    for relationship in object_type.relationships:
        value = document.get(relationship.name) if relationship.restorable else None
        if isinstance(value, Mapping):
            count += 1
        elif isinstance(value, list):
            count += sum(1 for edge in value if isinstance(edge, Mapping))
    return count


def _not_compared(types: Iterable[ObjectType]) -> dict[str, list[str]]:
    """Per type, the properties a restore may not write (left out of the comparison)."""
    found: dict[str, list[str]] = {}
    for object_type in types:
        actions = {name for name, _ in object_type.property_actions}
        left_out = sorted(object_type.strip_on_update - actions)
        if left_out:
            found[object_type.name] = left_out
    return found
