"""The Graph requests of a restore, and how their answers are read.

A :class:`Write` is one request of a plan item, sent alone (:func:`send`) or in a
``$batch``. :func:`lagging` retries a write while Graph answers as if an object created a
moment ago were not there yet (replication lag, graph-facts 5.4). The other helpers turn
Graph's errors into the report's wording.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from entra_backup.domain.object_ids import path_segment
from entra_backup.domain.object_types import ObjectType, Relationship
from entra_backup.graph.client import GraphClient
from entra_backup.graph.errors import (
    AuthenticationError,
    BadRequest,
    GraphClientError,
    NotFound,
    TransportError,
)

LAG_ATTEMPTS = 5
LAG_FIRST_DELAY = 1.0
"""Replication lag: 5 tries, 1 + 2 + 4 + 8 s apart (graph-facts 5.4)."""
FATAL = (AuthenticationError, TransportError)
"""Errors that stop the run: every later item would meet them too."""
_LAG = re.compile(r"do(es)? not exist|does not reference a valid application", re.IGNORECASE)
_ALREADY = re.compile(r"already exist", re.IGNORECASE)

T = TypeVar("T")


@dataclass
class Write:
    """One request of a plan item, sent alone or in a ``$batch``."""

    method: str
    path: str
    body: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)


def object_path(object_type: ObjectType, object_id: str) -> str:
    """``{type path}/{id}``, the id checked for the type's form and escaped."""
    return f"{object_type.path}/{path_segment(object_type.name, object_id)}"


def action_path(template: str, object_type: ObjectType, object_id: str) -> str:
    """A property action's path (``/users/{id}/assignLicense``) for one object."""
    return template.format(id=path_segment(object_type.name, object_id))


def relationship_path(object_type: ObjectType, relationship: Relationship,
                      source: str) -> str:
    """A relationship's path (``/groups/{id}/members``) for one source object."""
    return relationship.path.format(id=path_segment(object_type.name, source))


def directory_object_url(graph_url: str, object_id: str) -> str:
    """The URL an ``@odata.bind`` or ``@odata.id`` names a directory object by."""
    return f"{graph_url}/directoryObjects/{path_segment('directoryObjects', object_id)}"


async def send(client: GraphClient, write: Write) -> dict[str, Any]:
    """Send ``write`` and return Graph's answer (empty for 204)."""
    if write.method == "POST":
        return await client.post(write.path, write.body)
    if write.method == "PATCH":
        return await client.patch(write.path, write.body)
    if write.method == "DELETE":
        await client.delete(write.path)
        return {}
    response = await client.transport.request(write.method, write.path, json=write.body)
    return response.json_object()


def is_lag(exc: GraphClientError, involved: Iterable[str], created: set[str]) -> bool:
    """Whether ``exc`` is how Graph answers a write naming an object created moments ago:
    a 400 saying it does not exist, or a 404 for a request involving a new id."""
    if isinstance(exc, BadRequest):
        return bool(_LAG.search(graph_message(exc)))
    return isinstance(exc, NotFound) and bool(set(involved) & created)


async def lagging(client: GraphClient, created: set[str], send: Callable[[], Awaitable[T]],
                  ids: Iterable[str]) -> T:
    """``send()``, retried while Graph answers as if a just-created object were not there
    yet; ``ids`` are the ids the request involves, ``created`` those created this run."""
    involved = list(ids)
    delay = LAG_FIRST_DELAY
    for attempt in range(1, LAG_ATTEMPTS + 1):
        try:
            return await send()
        except (BadRequest, NotFound) as exc:
            if attempt == LAG_ATTEMPTS or not is_lag(exc, involved, created):
                raise
        await client.budget.clock.sleep(delay)
        delay *= 2
    raise AssertionError("unreachable")  # pragma: no cover


async def is_live(client: GraphClient, path: str) -> bool:
    """Whether the object at ``path`` exists."""
    try:
        await client.get(path, {"$select": "id"})
    except NotFound:
        return False
    return True


def plain(body: Mapping[str, Any] | None) -> bool:
    """Whether a PATCH body sets anything besides the ``@odata.type`` it must repeat."""
    return any(key != "@odata.type" for key in body or {})


def already(exc: GraphClientError) -> bool:
    """Graph's answer to a link or assignment that already exists."""
    return isinstance(exc, BadRequest) and bool(_ALREADY.search(graph_message(exc)))


def graph_message(exc: GraphClientError) -> str:
    if isinstance(exc, BadRequest) and exc.graph_message:
        return exc.graph_message
    return str(exc)


def first_line(exc: BaseException) -> str:
    """The first line of an error, for the report's reason."""
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def error_json(exc: GraphClientError | None) -> dict[str, Any] | None:
    """Graph's error as the journal and the report keep it."""
    if exc is None:
        return None
    return {"status": exc.status, "code": exc.code, "message": graph_message(exc)}


def local_error(message: str) -> GraphClientError:
    """An error found before sending, reported like Graph's."""
    return GraphClientError(message)
