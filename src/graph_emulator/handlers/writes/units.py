"""Devices and administrative units (device-post-devices, device-update, device-delete,
directory-post-administrativeunits, administrativeunit-update, administrativeunit-delete)."""

from __future__ import annotations

from graph_emulator.context import Context
from graph_emulator.handlers.collections import get_entry
from graph_emulator.model.directory import Entry
from graph_emulator.protocol import GraphResponse

from . import guards, links
from .common import add_object, body_of, created, no_content, now_iso
from .validation import check_properties, check_required, new_id, require_bool, split_binds

DEVICE_REQUIRED = ("accountEnabled", "alternativeSecurityIds", "deviceId", "displayName",
                   "operatingSystem", "operatingSystemVersion")


def create_device(ctx: Context) -> GraphResponse:
    """Register a device object; 201."""
    body = body_of(ctx)
    check_properties("devices", body)
    check_required(body, DEVICE_REQUIRED)
    require_bool(body, "accountEnabled", "devices")
    entry = add_object(ctx, "devices", {
        "trustType": None, "isCompliant": None, "isManaged": None, "physicalIds": [],
        **body, "id": new_id(), "deletedDateTime": None,
        "registrationDateTime": now_iso(ctx)})
    return created(ctx, entry)


def create_unit(ctx: Context) -> GraphResponse:
    """Create an administrative unit; 201."""
    plain, binds = split_binds(body_of(ctx))
    check_properties("administrativeUnits", plain)
    check_required(plain, ("displayName",))
    data = {"description": None, "visibility": None, **plain, "id": new_id(),
            "deletedDateTime": None}
    plan = links.plan_binds(ctx, Entry("administrativeUnits", data, 0, 0), binds,
                            creating=True)
    entry = add_object(ctx, "administrativeUnits", data)
    links.write_plan(ctx, entry, plan)
    return created(ctx, entry)


def update_plain(ctx: Context, kind: str) -> GraphResponse:
    """``PATCH`` a device or administrative unit; 204."""
    entry = get_entry(ctx, kind, ctx.params["id"])
    plain, binds = split_binds(body_of(ctx))
    guards.check_not_synced(entry)
    check_properties(kind, plain)
    links.apply_binds(ctx, entry, binds)
    if plain:
        ctx.directory.update(entry, plain)
    return no_content()


def delete_device(ctx: Context) -> GraphResponse:
    """Devices are hard-deleted (no recycle bin for them); 204."""
    entry = get_entry(ctx, "devices", ctx.params["id"])
    guards.check_not_synced(entry)
    ctx.directory.hard_delete(entry)
    return no_content()


def delete_unit(ctx: Context) -> GraphResponse:
    """Administrative units go to the recycle bin; 204."""
    entry = get_entry(ctx, "administrativeUnits", ctx.params["id"])
    ctx.directory.soft_delete(entry, ctx.clock.now())
    return no_content()
