"""Adding and removing relationships: memberships, owners, managers, assignments.

* add: ``@odata.bind`` in ``PATCH``es of up to 20 targets, ``$ref`` (``PUT`` for the
  manager) or a new entity (app role assignments, scoped role members), with the source
  and target ids mapped. A link that already exists counts as done. The replication-lag
  answer after a create ("... do not exist") is retried a few times with a short backoff
  on the client's clock. A bind list that Graph refuses whole (one target missing or
  already linked) is sent again one ``$ref`` at a time.
* remove: ``DELETE {relationship path}/{target}/$ref`` (the entity itself for entity
  relationships); already gone counts as done.

Bind items of consecutive plan rows are independent, so :func:`add_binds_batch` sends
their ``PATCH``es twenty to a ``$batch``; a refused one is handled as if sent alone. The
edges a re-created group's create already bound (``RunContext.bound``) are not sent again.
An item whose source's restore failed fails with "depends on <id>, which failed"; a
target whose restore failed blocks only its own edge.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from entra_backup.domain.errors import EntraBackupError, UsageError
from entra_backup.domain.object_ids import MalformedObjectId, edge_kind, path_segment
from entra_backup.domain.object_types import ObjectType, Relationship, WriteForm, by_name
from entra_backup.domain.restore.plan import Action, PlanItem
from entra_backup.graph.batch import BatchRequest
from entra_backup.graph.errors import BadRequest, GraphClientError, NotFound
from entra_backup.services.restore.context import Outcome, RunContext
from entra_backup.services.restore.ids import DependencyFailed, body_ids
from entra_backup.services.restore.report import DONE, FAILED, SKIPPED
from entra_backup.services.restore.requests import (
    FATAL,
    Write,
    already,
    directory_object_url,
    first_line,
    local_error,
    object_path,
    relationship_path,
)

Errors = list[tuple[str, GraphClientError]]
"""(target, Graph's error) of every edge that could not be written."""


@dataclass
class _Binds:
    """One bind item's chunks of targets, and what has gone wrong so far."""

    item: PlanItem
    object_type: ObjectType
    relationship: Relationship
    source: str
    chunks: list[list[str]]
    blocked: list[str]
    path: str
    """Where the bind ``PATCH``es go: the source object (its id checked and escaped)."""
    errors: Errors = field(default_factory=list)


def is_bind(item: PlanItem) -> bool:
    """Whether ``item`` adds edges through ``@odata.bind``."""
    if item.action is not Action.ADD_EDGES or not item.relationship:
        return False
    try:
        relationship = by_name(item.type).relationship(item.relationship)
    except KeyError:
        return False
    return relationship.restorable and relationship.write is WriteForm.BIND


async def add_edges(ctx: RunContext, item: PlanItem) -> Outcome:
    """Add one item's edges, sent on their own."""
    object_type = by_name(item.type)
    relationship = _relationship(object_type, item)
    if not relationship.restorable:
        return Outcome(SKIPPED, relationship.not_restorable_reason or
                       f"{relationship.name} is not written by a restore")
    ctx.ids.check(item.object_id)
    source = ctx.ids.live(item.object_id, item.live_id)
    blocked = [t for t in item.edges if t in ctx.ids.failed]
    targets = [t for t in item.edges if t not in ctx.ids.failed]
    errors: Errors = []
    if relationship.write is WriteForm.BIND:
        binds = _binds(ctx, item, object_type, relationship)
        for chunk in binds.chunks:
            await _bind(ctx, binds, chunk)
        errors = binds.errors
    elif relationship.write is WriteForm.REF:
        for target in targets:
            await _ref(ctx, object_type, relationship, source, target, errors=errors)
    else:
        blocked += await _entities(ctx, item, relationship, source, targets, errors=errors)
    return _edge_outcome(item, blocked, errors)


async def add_binds_batch(ctx: RunContext, group: Sequence[tuple[str, PlanItem]]
                          ) -> list[tuple[str, Outcome]]:
    """Bind items (see :func:`is_bind`) whose ``PATCH``es travel in shared ``$batch``es."""
    outcomes: list[tuple[str, Outcome]] = []
    ready: list[tuple[str, _Binds]] = []
    sent: list[tuple[_Binds, list[str], dict[str, Any]]] = []
    for key, item in group:
        try:
            ctx.ids.check(item.object_id)
            binds = _binds(ctx, item, by_name(item.type),
                           _relationship(by_name(item.type), item))
            requests = [(chunk, _bind_body(ctx, binds.relationship, chunk))
                        for chunk in binds.chunks]
        except DependencyFailed as exc:
            outcomes.append((key, Outcome(FAILED, str(exc))))
            continue
        except EntraBackupError as exc:
            outcomes.append((key, Outcome(FAILED, exc.message)))
            continue
        ready.append((key, binds))
        sent += [(binds, chunk, body) for chunk, body in requests]
    answers = await ctx.client.batch([
        BatchRequest("PATCH", binds.path, body, id=str(n))
        for n, (binds, _, body) in enumerate(sent, start=1)])
    for (binds, chunk, _), answer in zip(sent, answers, strict=True):
        if answer.error() is not None:
            await _bind(ctx, binds, chunk)  # as if sent alone: lag, one at a time
    outcomes += [(key, _edge_outcome(b.item, b.blocked, b.errors)) for key, b in ready]
    return outcomes


def _binds(ctx: RunContext, item: PlanItem, object_type: ObjectType,
           relationship: Relationship) -> _Binds:
    bound = set(ctx.bound.get((item.object_id, relationship.name), ()))
    targets = [t for t in item.edges if t not in ctx.ids.failed and t not in bound]
    size = max(1, relationship.max_per_request)
    source = ctx.ids.live(item.object_id, item.live_id)
    return _Binds(item, object_type, relationship, source,
                  [targets[n:n + size] for n in range(0, len(targets), size)],
                  [t for t in item.edges if t in ctx.ids.failed],
                  object_path(object_type, source))


def _bind_body(ctx: RunContext, relationship: Relationship, chunk: list[str]
               ) -> dict[str, Any]:
    return {f"{relationship.name}@odata.bind":
            [directory_object_url(ctx.graph_url, ctx.ids.live(t)) for t in chunk]}


async def _bind(ctx: RunContext, binds: _Binds, chunk: list[str]) -> None:
    body = _bind_body(ctx, binds.relationship, chunk)
    path = binds.path
    try:
        await ctx.lagging(partial(ctx.client.patch, path, body),
                          [binds.source, *(ctx.ids.live(t) for t in chunk)])
    except FATAL:
        raise
    except GraphClientError as exc:
        if len(chunk) == 1:
            if not already(exc):
                binds.errors.append((chunk[0], exc))
        elif isinstance(exc, (BadRequest, NotFound)):
            # One missing or already linked target refuses the whole list (a run
            # stopped half-way, a target deleted since): one at a time instead.
            for target in chunk:
                await _ref(ctx, binds.object_type, binds.relationship, binds.source, target,
                           errors=binds.errors)
        else:
            binds.errors.extend((target, exc) for target in chunk)


async def _ref(ctx: RunContext, object_type: ObjectType, relationship: Relationship,
               source: str, target: str, *, errors: Errors) -> None:
    mapped = ctx.ids.live(target)
    try:
        path = relationship_path(object_type, relationship, source) + "/$ref"
        body = {"@odata.id": directory_object_url(ctx.graph_url, mapped)}
    except MalformedObjectId as exc:  # this edge only: it may come from a bind's fallback
        errors.append((target, local_error(exc.message)))
        return
    method = "PUT" if relationship.single_valued else "POST"
    try:
        await ctx.lagging(partial(ctx.send, Write(method, path, body)), [source, mapped])
    except FATAL:
        raise
    except GraphClientError as exc:
        if not already(exc):
            errors.append((target, exc))


async def _entities(ctx: RunContext, item: PlanItem, relationship: Relationship, source: str,
                    targets: list[str], *, errors: Errors) -> list[str]:
    """Edges written as new entities; returns the ids of failed dependencies met."""
    stored = [e for e in ctx.document(item).get(relationship.name) or []
              if isinstance(e, dict)]
    blocked: list[str] = []
    for target in targets:
        entity = _stored_entity(relationship.name, stored, target)
        if entity is None:
            errors.append((target, local_error(
                f"the snapshot holds no {relationship.name} entry {target}")))
            continue
        try:
            body = _entity_body(ctx, relationship.name, entity, source)
        except DependencyFailed as exc:
            blocked.append(exc.object_id)
            continue
        if body is None:
            errors.append((target, local_error(
                f"{relationship.name} entries are not written by a restore")))
            continue
        path = relationship_path(by_name(item.type), relationship, source)
        try:
            await ctx.lagging(partial(ctx.client.post, path, body), [source, *body_ids(body)])
        except FATAL:
            raise
        except GraphClientError as exc:
            if not already(exc):
                errors.append((target, exc))
    return blocked


def _entity_body(ctx: RunContext, name: str, entity: Mapping[str, Any], source: str
                 ) -> dict[str, Any] | None:
    if name == "appRoleAssignedTo":
        principal = str(entity.get("principalId"))
        ctx.ids.check(principal)
        return {"principalId": ctx.ids.live(principal), "resourceId": source,
                "appRoleId": entity.get("appRoleId")}
    if name == "scopedRoleMembers":
        info = entity.get("roleMemberInfo")
        member = str(info.get("id")) if isinstance(info, dict) else "None"
        role = str(entity.get("roleId"))
        ctx.ids.check(member)
        ctx.ids.check(role)
        return {"roleId": ctx.ids.live(role), "roleMemberInfo": {"id": ctx.ids.live(member)}}
    return None


async def remove_edges(ctx: RunContext, item: PlanItem) -> Outcome:
    """Remove one item's edges."""
    object_type = by_name(item.type)
    relationship = _relationship(object_type, item)
    if not relationship.restorable:
        return Outcome(SKIPPED, relationship.not_restorable_reason or
                       f"{relationship.name} is not written by a restore")
    base = relationship_path(object_type, relationship,
                             ctx.ids.live(item.object_id, item.live_id))
    kind = edge_kind(relationship.name)
    errors: Errors = []
    for target in item.edges:
        if relationship.single_valued:
            path = f"{base}/$ref"
        elif relationship.write is WriteForm.ENTITY:
            path = f"{base}/{path_segment(kind, target)}"
        else:
            path = f"{base}/{path_segment(kind, ctx.ids.live(target))}/$ref"
        try:
            await ctx.client.delete(path)
        except NotFound:
            continue  # already gone
        except FATAL:
            raise
        except GraphClientError as exc:
            errors.append((target, exc))
    return _edge_outcome(item, [], errors)


def _relationship(object_type: ObjectType, item: PlanItem) -> Relationship:
    try:
        return object_type.relationship(item.relationship or "")
    except KeyError:
        raise UsageError(f"{item.type} has no relationship {item.relationship!r}") from None


def _stored_entity(name: str, stored: list[dict[str, Any]], target: str
                   ) -> dict[str, Any] | None:
    for entity in stored:
        if entity.get("id") == target:
            return entity
    for entity in stored:  # edges may name the principal or member instead
        info = entity.get("roleMemberInfo")
        other = entity.get("principalId") if name == "appRoleAssignedTo" else \
            info.get("id") if isinstance(info, dict) else None
        if other == target:
            return entity
    return None


def _edge_outcome(item: PlanItem, blocked: list[str], errors: Errors) -> Outcome:
    total = len(item.edges)
    if blocked:
        return Outcome(FAILED, f"depends on {blocked[0]}, which failed"
                       + (f" ({len(blocked)} of {total} edges)" if total > 1 else ""),
                       error=errors[0][1] if errors else None)
    if errors:
        target, first = errors[0]
        return Outcome(FAILED, f"{len(errors)} of {total} edges failed, first {target}: "
                       f"{first_line(first)}", error=first)
    return Outcome(DONE)
