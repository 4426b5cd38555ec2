"""Relationship writes: ``$ref`` adds and removals, ``nav@odata.bind`` lists, the manager.

A request either applies every link it names or none: each target is checked before the
first link is written, as Graph does for ``members@odata.bind`` (group-post-members).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from urllib.parse import urlsplit

from graph_emulator.context import Context
from graph_emulator.handlers.collections import get_entry
from graph_emulator.model.directory import Entry
from graph_emulator.model.kinds import KINDS
from graph_emulator.protocol import GraphError, GraphResponse, not_found
from graph_emulator.routing import Router

from . import guards
from .common import body_of, no_content

MAX_LINK_CHANGES = 20
MEMBER_WRITE = ("GroupMember.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All")


@dataclass(frozen=True)
class LinkSpec:
    """One writable directoryObject navigation: where it starts and what it may point at."""

    source: str
    navigation: str
    targets: tuple[str, ...]
    permissions: tuple[str, ...]

    @property
    def relation(self) -> str:
        return self.navigation


LINKS: tuple[LinkSpec, ...] = (
    LinkSpec("groups", "members", ("users", "groups", "devices", "servicePrincipals"),
             MEMBER_WRITE),
    LinkSpec("groups", "owners", ("users", "servicePrincipals"), MEMBER_WRITE),
    LinkSpec("applications", "owners", ("users", "servicePrincipals"),
             KINDS["applications"].write),
    LinkSpec("servicePrincipals", "owners", ("users", "servicePrincipals"),
             KINDS["servicePrincipals"].write),
    LinkSpec("directoryRoles", "members", ("users", "groups", "servicePrincipals"),
             KINDS["directoryRoles"].write),
    LinkSpec("administrativeUnits", "members", ("users", "groups", "devices"),
             KINDS["administrativeUnits"].write),
    LinkSpec("devices", "registeredOwners", ("users",), KINDS["devices"].write),
    LinkSpec("devices", "registeredUsers", ("users",), KINDS["devices"].write),
)
"""Target kinds: group-post-members, *-post-owners, directoryrole-post-members,
administrativeunit-post-members and device-post-registeredowners pages."""

MANAGER = LinkSpec("users", "manager", ("users",), KINDS["users"].write)


def spec_for(kind: str, navigation: str) -> LinkSpec | None:
    """The writable navigation ``navigation`` of ``kind``, if there is one."""
    return next((s for s in LINKS if s.source == kind and s.navigation == navigation), None)


def reference_id(url: object) -> str:
    """The object id at the end of an ``@odata.id`` or ``@odata.bind`` URL."""
    if not isinstance(url, str) or not url.strip():
        raise GraphError(400, "BadRequest", "Invalid object identifier in '@odata.id'.")
    path = urlsplit(url.strip()).path.rstrip("/")
    last = path.rsplit("/", 1)[-1]
    if "(" in last and last.endswith(")"):
        last = last[last.index("(") + 1:-1].strip("'")
    return last


def _check_source(ctx: Context, spec: LinkSpec, source: Entry) -> None:
    if source.kind == "groups":
        guards.check_group_writable(source)
        guards.check_role_assignable(ctx, source)
        if spec.navigation == "members" and guards.is_dynamic(source.data):
            raise GraphError(400, "Request_BadRequest",
                             "Members of a dynamic membership group cannot be added or removed.")
    elif source.kind in ("users", "devices"):
        guards.check_not_synced(source)


def _resolve(ctx: Context, spec: LinkSpec, source: Entry, target_id: str) -> Entry:
    target = ctx.directory.get(target_id)
    if target is None:
        raise not_found(target_id)
    allowed = spec.targets
    if source.kind == "groups" and spec.navigation == "members" and \
            guards.is_unified(source.data):
        allowed = ("users",)
    if target.kind not in allowed:
        raise GraphError(400, "Request_BadRequest",
                         f"An object of type '{KINDS[target.kind].odata_type}' cannot be added "
                         f"to the '{spec.navigation}' of a {KINDS[source.kind].odata_type}.")
    return target


Plan = list[tuple[LinkSpec, list[str]]]


def _plan(ctx: Context, spec: LinkSpec, source: Entry, target_ids: list[str], *,
          lag_source: bool) -> list[str]:
    _check_source(ctx, spec, source)
    targets = [_resolve(ctx, spec, source, t) for t in target_ids]
    guards.check_replicated(ctx, *targets, *((source,) if lag_source else ()))
    existing = {t.id for t in targets if ctx.directory.has_link(spec.relation, source.id, t.id)}
    if existing or len({t.id for t in targets}) != len(targets):
        raise GraphError(400, "Request_BadRequest",
                         "One or more added object references already exist for the following "
                         f"modified properties: '{spec.navigation}'.")
    return [t.id for t in targets]


def plan_binds(ctx: Context, source: Entry, binds: dict[str, list[str]], *,
               creating: bool) -> Plan:
    """Check ``nav@odata.bind`` lists (at most 20 link changes) without writing anything.

    ``source`` may be an object not yet added (a create checks its binds first).
    """
    if sum(len(urls) for urls in binds.values()) > MAX_LINK_CHANGES:
        raise GraphError(400, "Request_BadRequest",
                         "A resource cannot contain more than 20 link changes")
    plan: Plan = []
    for navigation, urls in binds.items():
        spec = spec_for(source.kind, navigation)
        if spec is None:
            raise GraphError(400, "Request_BadRequest", f"Invalid property '{navigation}'.")
        ctx.require(*spec.permissions)
        ids = [reference_id(url) for url in urls]
        plan.append((spec, _plan(ctx, spec, source, ids, lag_source=not creating)))
    return plan


def write_plan(ctx: Context, source: Entry, plan: Plan) -> None:
    """Write the links a checked plan names."""
    for spec, ids in plan:
        for target_id in ids:
            ctx.directory.link(spec.relation, source.id, target_id)


def apply_binds(ctx: Context, source: Entry, binds: dict[str, list[str]]) -> None:
    """Check then write the binds of an update: all of them or none."""
    write_plan(ctx, source, plan_binds(ctx, source, binds, creating=False))


def post_ref(ctx: Context, spec: LinkSpec) -> GraphResponse:
    """``POST /{kind}/{id}/{navigation}/$ref`` with ``{"@odata.id": url}``."""
    source = get_entry(ctx, spec.source, ctx.params["id"])
    target_id = reference_id(body_of(ctx).get("@odata.id"))
    ids = _plan(ctx, spec, source, [target_id], lag_source=True)
    write_plan(ctx, source, [(spec, ids)])
    return no_content()


def delete_ref(ctx: Context, spec: LinkSpec) -> GraphResponse:
    """``DELETE /{kind}/{id}/{navigation}/{target}/$ref``."""
    source = get_entry(ctx, spec.source, ctx.params["id"])
    _check_source(ctx, spec, source)
    target_id = ctx.params["target"]
    if not ctx.directory.unlink(spec.relation, source.id, target_id):
        raise not_found(target_id)
    return no_content()


def put_manager(ctx: Context) -> GraphResponse:
    """``PUT /users/{id}/manager/$ref``: set (or replace) a user's manager."""
    user = get_entry(ctx, "users", ctx.params["id"])
    guards.check_not_synced(user)
    manager = _resolve(ctx, MANAGER, user, reference_id(body_of(ctx).get("@odata.id")))
    guards.check_replicated(ctx, user, manager)
    ctx.directory.link("manager", user.id, manager.id)
    return no_content()


def delete_manager(ctx: Context) -> GraphResponse:
    """``DELETE /users/{id}/manager/$ref``."""
    user = get_entry(ctx, "users", ctx.params["id"])
    guards.check_not_synced(user)
    current = ctx.directory.targets("manager", user.id, live_only=False)
    if not current:
        raise not_found("manager")
    ctx.directory.unlink("manager", user.id, current[0])
    return no_content()


def register(router: Router) -> None:
    """Add every ``$ref`` route."""
    for spec in LINKS:
        base = f"{KINDS[spec.source].path}/{{id}}/{spec.navigation}"
        router.add("POST", f"{base}/$ref", partial(post_ref, spec=spec), spec.permissions)
        router.add("DELETE", f"{base}/{{target}}/$ref", partial(delete_ref, spec=spec),
                   spec.permissions)
    router.add("PUT", "/users/{id}/manager/$ref", put_manager, MANAGER.permissions)
    router.add("DELETE", "/users/{id}/manager/$ref", delete_manager, MANAGER.permissions)
