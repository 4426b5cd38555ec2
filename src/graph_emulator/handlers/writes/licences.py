"""``POST /users/{id}/assignLicense`` and ``POST /groups/{id}/assignLicense``
(user-assignlicense, group-assignlicense; the v1.0 CSDL binds the action to both types).

Graph sets licences only through this action, never by writing ``assignedLicenses``
(graph-facts 5.3). Both lists are required (either may be empty); every SKU must be one the
tenant subscribes to, and a user needs a ``usageLocation`` before a licence is added. The
answer is ``200`` with the object.
"""

from __future__ import annotations

from typing import Any

from graph_emulator.context import Context
from graph_emulator.handlers.collections import get_entry
from graph_emulator.handlers.render import context_url, render
from graph_emulator.protocol import GraphError, GraphResponse

from .common import body_of

USAGE_LOCATION_MESSAGE = ("License assignment cannot be done for user with invalid usage "
                          "location.")


def _bad(message: str) -> GraphError:
    return GraphError(400, "Request_BadRequest", message)


def _sku(value: Any, subscribed: set[str]) -> str:
    sku = str(value).lower() if isinstance(value, str) else ""
    if sku not in subscribed:
        raise _bad(f"License {value} does not correspond to a valid company License.")
    return sku


def assign_license(ctx: Context, kind: str) -> GraphResponse:
    """Add and remove licences of a user or a group; 200 with the object."""
    entry = get_entry(ctx, kind, ctx.params["id"])
    body = body_of(ctx)
    add, remove = body.get("addLicenses"), body.get("removeLicenses")
    if not isinstance(add, list) or not isinstance(remove, list):
        raise _bad("Both addLicenses and removeLicenses are required (either may be empty).")
    subscribed = {str(s.data.get("skuId")).lower()
                  for s in ctx.directory.entries("subscribedSkus")}
    adding: dict[str, list[str]] = {}
    for licence in add:
        if not isinstance(licence, dict):
            raise _bad("Invalid value specified for property 'addLicenses'.")
        plans = licence.get("disabledPlans") or []
        if not isinstance(plans, list):
            raise _bad("Invalid value specified for property 'disabledPlans'.")
        adding[_sku(licence.get("skuId"), subscribed)] = [str(p) for p in plans]
    removing = {_sku(sku, subscribed) for sku in remove}
    if adding.keys() & removing:
        raise _bad("A licence cannot be added and removed in the same request.")
    if kind == "users" and adding and not entry.data.get("usageLocation"):
        raise _bad(USAGE_LOCATION_MESSAGE)
    current = [dict(lic) for lic in entry.data.get("assignedLicenses") or []
               if isinstance(lic, dict)]
    kept = [lic for lic in current if str(lic.get("skuId")).lower() not in removing | set(adding)]
    original = {str(lic.get("skuId")).lower(): lic.get("skuId") for lic in current}
    licences = kept + [{"disabledPlans": plans, "skuId": original.get(sku, sku)}
                       for sku, plans in adding.items()]
    ctx.directory.update(entry, {"assignedLicenses": licences})
    return GraphResponse(200, {"@odata.context": context_url(ctx.request, f"{kind}/$entity"),
                               **render(entry, None)})
