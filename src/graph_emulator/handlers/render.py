"""Turning stored objects into Graph's JSON: property selection, annotations, pages."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, urlencode

from graph_emulator.model import schema
from graph_emulator.model.directory import Entry
from graph_emulator.model.kinds import KINDS
from graph_emulator.protocol import GraphRequest


def odata_type(entry: Entry) -> str:
    """The object's ``@odata.type`` annotation value."""
    explicit = entry.data.get("@odata.type")
    return str(explicit) if explicit else "#" + KINDS[entry.kind].odata_type


def render(entry: Entry, select: list[str] | None, *, typed: bool = False) -> dict[str, Any]:
    """The object as Graph returns it for the given ``$select`` (None: default set).

    A property without a value comes back as Graph sends it: ``[]`` for collections,
    ``null`` or a type default otherwise, never missing.
    """
    data = entry.data
    template = schema.defaults(odata_type(entry).lstrip("#"))
    if select is not None:
        names: Iterable[str] = select
    elif entry.kind == "users":
        names = schema.USER_DEFAULT
    else:
        hidden = schema.NOT_DEFAULT.get(entry.kind, frozenset())
        extra = [k for k in data if k not in template and not k.startswith("@")]
        names = [*(k for k in template if k not in hidden), *extra]
    complexes = schema.complex_properties(odata_type(entry))
    body = {}
    for name in names:
        if name not in data:
            body[name] = schema.fresh(template.get(name))
        elif name in complexes and data[name] is not None:
            body[name] = schema.complete(data[name], complexes[name][0])
        else:
            body[name] = data[name]
    if typed or "@odata.type" in data:
        return {"@odata.type": odata_type(entry), **body}
    return body


def context_url(request: GraphRequest, fragment: str, select: list[str] | None = None) -> str:
    """The ``@odata.context`` URL of a response."""
    if select:
        fragment += "(" + ",".join(s for s in select if s != "id" or len(select) == 1) + ")"
    return f"{request.base_url}/$metadata#{fragment}"


def next_link(request: GraphRequest, **replace: str) -> str:
    """The request's own URL with some query options replaced (``$skiptoken=...``)."""
    query = {k: v for k, v in request.query.items() if k.lower() != "$skiptoken"}
    query.update(replace)
    encoded = urlencode(query, quote_via=quote, safe="$,'()=:")
    return f"{request.base_url}{request.path}?{encoded}"


def page(
    request: GraphRequest,
    context: str,
    items: list[dict[str, Any]],
    *,
    next_url: str | None = None,
    count: int | None = None,
) -> dict[str, Any]:
    """A collection response body."""
    body: dict[str, Any] = {"@odata.context": context}
    if count is not None:
        body["@odata.count"] = count
    if next_url is not None:
        body["@odata.nextLink"] = next_url
    body["value"] = items
    return body


ODATA_ID_KINDS = frozenset({"devices", "oauth2PermissionGrants"})
"""Kinds whose items carry ``@odata.id`` in Graph's answers (documentation examples
2676, 2780, 3186)."""
ODATA_ID_NAVIGATIONS = frozenset({"registeredOwners", "registeredUsers"})
"""Navigations whose items carry ``@odata.id`` (examples 2580, 2614)."""


def with_odata_id(request: GraphRequest, tenant_id: str, entry: Entry,
                  body: dict[str, Any]) -> dict[str, Any]:
    """``body`` with the ``@odata.id`` the directory service puts on some answers.

    The service names objects by its internal v2 directory URL: directory objects as
    ``.../v2/{tenant}/directoryObjects/{id}/Microsoft.DirectoryServices.{Type}``, grants as
    ``.../v2/{tenant}/oauth2PermissionGrants/{id}``.
    """
    host = request.base_url.rsplit("/", 1)[0]
    if entry.kind == "oauth2PermissionGrants":
        url = f"{host}/v2/{tenant_id}/oauth2PermissionGrants/{entry.id}"
    else:
        short = KINDS[entry.kind].odata_type.rsplit(".", 1)[-1]
        url = (f"{host}/v2/{tenant_id}/directoryObjects/{entry.id}/"
               f"Microsoft.DirectoryServices.{short[0].upper()}{short[1:]}")
    return {"@odata.id": url, **body}
