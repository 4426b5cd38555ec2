"""Relationships and properties Graph serves only per object, read through ``$batch``.

App role assignments and scoped role members are not change-tracked, and an application's
public certificate keys come back only on a single-object read (graph-facts section 5.2),
so these are read for every object of their type on every run, 20 requests a batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from entra_backup.domain.documents import sorted_edges
from entra_backup.domain.object_ids import path_segment
from entra_backup.domain.object_types import Capture, ObjectType, Relationship, WriteForm
from entra_backup.graph.batch import BatchRequest, BatchResult
from entra_backup.graph.client import GraphClient
from entra_backup.graph.errors import NotFound, PermissionDenied

CHUNK = 100
"""Objects whose extra reads go out together (several batches in flight)."""
REREAD = frozenset({500, 502})
"""Inner answers ``$batch`` keeps without sending again (it repeats only 429, 503 and 504),
though a GET that met them is safe to repeat: such a read is made again on its own, through
the client's retry loop, instead of failing the type."""


def per_object_relationships(object_type: ObjectType) -> tuple[Relationship, ...]:
    """The type's relationships read per object."""
    return tuple(r for r in object_type.relationships if r.capture is Capture.PER_OBJECT)


def needs_per_object(object_type: ObjectType) -> bool:
    """Whether each object of the type needs reads of its own."""
    return bool(per_object_relationships(object_type) or object_type.per_object_select)


def _requests(object_type: ObjectType, object_id: str) -> list[tuple[str, BatchRequest]]:
    segment = path_segment(object_type.name, object_id, f"Graph's list of {object_type.name}")
    requests = [(f"{object_id}|{relationship.name}",
                 BatchRequest("GET", relationship.path.format(id=segment) + "?$top=999"))
                for relationship in per_object_relationships(object_type)]
    if object_type.per_object_select:
        select = ",".join(object_type.per_object_select)
        requests.append((f"{object_id}|$select",
                         BatchRequest("GET", f"{object_type.path}/{segment}?$select={select}")))
    return requests


async def complete_documents(client: GraphClient, object_type: ObjectType,
                             documents: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The documents with their per-object relationships and properties filled in.

    An object deleted since it was listed is dropped: it no longer exists.
    """
    keyed = [pair for document in documents
             for pair in _requests(object_type, str(document["id"]))]
    results = await _send(client, [request for _, request in keyed])
    by_key = {key: result for (key, _), result in zip(keyed, results, strict=True)}
    completed = []
    for document in documents:
        filled = await _fill(client, object_type, dict(document), by_key)
        if filled is not None:
            completed.append(filled)
    return completed


async def _send(client: GraphClient, requests: list[BatchRequest]) -> list[BatchResult]:
    slices = [requests[start:start + 20] for start in range(0, len(requests), 20)]
    answers = await asyncio.gather(*(client.batch(part) for part in slices))
    return [result for answer in answers for result in answer]


async def _fill(client: GraphClient, object_type: ObjectType, document: dict[str, Any],
                by_key: dict[str, BatchResult]) -> dict[str, Any] | None:
    object_id = str(document["id"])
    for relationship in per_object_relationships(object_type):
        body = await _body(client, by_key[f"{object_id}|{relationship.name}"], object_type)
        if body is None:
            return None
        edges = list(body.get("value", []))
        next_link = body.get("@odata.nextLink")
        if isinstance(next_link, str):
            edges.extend([item async for item in client.iterate(
                next_link, permission=object_type.read_permission)])
        document[relationship.name] = sorted_edges(edges, entities=_entities(relationship))
    if object_type.per_object_select:
        body = await _body(client, by_key[f"{object_id}|$select"], object_type)
        if body is None:
            return None
        for name in object_type.per_object_select:
            if name in body:
                document[name] = body[name]
    return document


def _entities(relationship: Relationship) -> bool:
    """Whether the edges are whole entities (app role assignments, scoped role members),
    kept as Graph returned them, rather than references trimmed to type and id."""
    return relationship.write is WriteForm.ENTITY or relationship.name == "appRoleAssignments"


async def _body(client: GraphClient, result: BatchResult,
                object_type: ObjectType) -> dict[str, Any] | None:
    if result.status in REREAD and result.request.method == "GET":
        try:
            return await client.get(result.request.url, permission=object_type.read_permission)
        except NotFound:
            return None
    error = result.error()
    if isinstance(error, NotFound):
        return None
    if isinstance(error, PermissionDenied):
        raise PermissionDenied(
            f"Graph refused {result.request.url}: the app lacks {object_type.read_permission}",
            permission=object_type.read_permission) from None
    if error is not None:
        raise error
    return result.body if isinstance(result.body, dict) else {}
