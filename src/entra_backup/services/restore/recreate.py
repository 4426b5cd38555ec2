"""Re-creating objects that are gone for good, with a new id.

``POST {type path}`` of the stored document without the type's ``strip_on_create``
properties, relationships, ``create_only_later`` properties (sent by a ``PATCH`` right
after), annotations (``@odata.type`` is kept for polymorphic types such as named
locations), nulls and the properties the plan leaves out. Every id in the body that names
an object re-created earlier in the run is rewritten to the new id (an application's
``appId`` to the new ``appId``).

Per type: users get a new ``passwordProfile`` with the run's default password and a
forced change; guests (``userType`` Guest) are invited again (``POST /invitations``, see
``domain.restore.guests``; the invitation mail goes only with ``send_invitations``) and
their other properties PATCHed onto the invited user; Conditional Access policies start
in report-only state unless the run keeps the backed-up state (a disabled one stays
disabled); an application's ``api://{appId}`` identifier URIs are set after the create,
with the new ``appId``; certificates whose key was not backed up are left out and noted.
A group's create binds its first 20 owners and members
(``domain.restore.plan.bound_at_create``); if Graph refuses the create for a binding, it
goes again without, and its edges steps add them all. Licences of a user or group are
assigned right after the create through ``assignLicense`` (the user's ``usageLocation``
travels in the create body, as Graph requires it first).

Re-creations of one directory type are independent of each other, so
:func:`recreate_batch` sends fresh ones twenty to a ``$batch``; :func:`recreate` sends one
alone, and is how a run resumes one: a ``started`` journal line without a ``finished`` one,
or a failure without a refusal (a 5xx, no answer), means the object may exist, so it is
looked for by its natural key (UPN, mailNickname, displayName ...) before it is sent
again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from entra_backup.domain.errors import EntraBackupError, UsageError
from entra_backup.domain.object_ids import MalformedObjectId, is_well_formed
from entra_backup.domain.object_types import Lane, ObjectType, by_name
from entra_backup.domain.restore import guests
from entra_backup.domain.restore.plan import BOUND_ON_CREATE, REPORT_ONLY, Action, PlanItem
from entra_backup.graph.batch import BatchRequest
from entra_backup.graph.errors import BadRequest, GraphClientError, NotFound
from entra_backup.services.restore.context import Outcome, RunContext
from entra_backup.services.restore.ids import DependencyFailed, body_ids
from entra_backup.services.restore.journal import FINISHED, STARTED, JournalEntry
from entra_backup.services.restore.report import DONE, FAILED, NEEDS_ENABLING, NEEDS_SECRETS
from entra_backup.services.restore.requests import (
    FATAL,
    action_path,
    directory_object_url,
    first_line,
    is_lag,
    object_path,
)
from entra_backup.services.restore.simple_items import license_change

UNBOUND = "created-without-bindings"
"""Journal flag: a group's create went without its first owners and members."""


@dataclass
class _Creation:
    """What re-creating one object sends."""

    object_type: ObjectType
    document: dict[str, Any]
    body: dict[str, Any]
    later: dict[str, Any]
    """Properties PATCHed right after the create."""
    notes: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    binds: dict[str, list[str]] = field(default_factory=dict)
    """Relationship -> live ids bound in the create body (``<name>@odata.bind``)."""
    path: str = ""
    """Where the create goes, when not the type's collection (a guest's invitation)."""

    @property
    def target(self) -> str:
        return self.path or self.object_type.path

    @property
    def old_app_id(self) -> str | None:
        app_id = self.document.get("appId")
        return app_id if isinstance(app_id, str) else None


def batchable(item: PlanItem, entry: JournalEntry | None) -> bool:
    """Whether ``item`` is a re-creation that may share a ``$batch`` with others of its
    type: never started (or refused outright before), a collection, outside the serial
    Conditional Access lane (where a batch would save nothing)."""
    if item.action is not Action.RECREATE:
        return False
    if entry is not None and (entry.event == STARTED or entry.new_id or _ambiguous(entry)):
        return False
    object_type = by_name(item.type)
    return not object_type.singleton and object_type.lane is Lane.DIRECTORY


async def recreate(ctx: RunContext, key: str, item: PlanItem) -> Outcome:
    """Re-create one object, or finish one an earlier run created."""
    object_type = by_name(item.type)
    if object_type.singleton:
        return Outcome(FAILED, f"{item.type} is a singleton; it is updated, not re-created")
    creation = _creation(ctx, object_type, item)
    entry = ctx.journal.get(key)
    if entry is not None and entry.event == FINISHED and entry.new_id:
        # Created by an earlier run whose later step failed: only that step again.
        return await _complete(ctx, item, creation, entry.new_id, entry.new_app_id)
    if entry is not None and (entry.event == STARTED or _ambiguous(entry)):
        found = await _find_existing(ctx, object_type, creation.document)
        if found is not None:
            creation.notes.append("created by an earlier attempt that did not hear back; "
                                  "found by its natural key")
            # Whether that create bound its first members is unknown: the edges steps add
            # them all (one already there counts as done).
            forget_binds(ctx, item.object_id)
            return await _complete(ctx, item, creation, *found)
    ctx.journal.record(JournalEntry(key, STARTED))
    return await _create_alone(ctx, item, creation)


def _ambiguous(entry: JournalEntry) -> bool:
    """A create that failed without an answer saying it was refused: a 5xx (or no status)
    may have created the object all the same."""
    status = (entry.error or {}).get("status")
    return entry.event == FINISHED and entry.outcome == FAILED and not entry.new_id \
        and not (isinstance(status, int) and 400 <= status < 500)


async def recreate_batch(ctx: RunContext, group: Sequence[tuple[str, PlanItem]]
                         ) -> list[tuple[str, Outcome]]:
    """Re-create fresh objects of one type through one ``$batch``; an inner answer that is
    replication lag is sent again alone."""
    outcomes: list[tuple[str, Outcome]] = []
    ready: list[tuple[str, PlanItem, _Creation]] = []
    for key, item in group:
        try:
            ready.append((key, item, _creation(ctx, by_name(item.type), item)))
        except DependencyFailed as exc:
            outcomes.append((key, Outcome(FAILED, str(exc))))
        except EntraBackupError as exc:
            outcomes.append((key, Outcome(FAILED, exc.message)))
    for key, _, _ in ready:
        ctx.journal.record(JournalEntry(key, STARTED))
    answers = await ctx.client.batch([
        BatchRequest("POST", c.target, c.body, id=str(n))
        for n, (_, _, c) in enumerate(ready, start=1)])
    for (key, item, creation), answer in zip(ready, answers, strict=True):
        error = answer.error()
        try:
            if error is None:
                outcome = await _created(ctx, item, creation, answer.body)
            elif is_lag(error, body_ids(creation.body), ctx.ids.created):
                outcome = await _create_alone(ctx, item, creation)
            elif creation.binds and isinstance(error, (BadRequest, NotFound)):
                _unbind(ctx, item, creation, error)
                outcome = await _create_alone(ctx, item, creation)
            else:
                outcome = Outcome(FAILED, first_line(error), error=error)
        except FATAL:
            raise
        except GraphClientError as exc:
            outcome = Outcome(FAILED, first_line(exc), error=exc)
        outcomes.append((key, outcome))
    return outcomes


async def _create_alone(ctx: RunContext, item: PlanItem, creation: _Creation) -> Outcome:
    try:
        created = await _post(ctx, creation)
    except (BadRequest, NotFound) as exc:
        if not creation.binds:
            raise
        _unbind(ctx, item, creation, exc)
        created = await _post(ctx, creation)
    return await _created(ctx, item, creation, created)


async def _post(ctx: RunContext, creation: _Creation) -> dict[str, Any]:
    body = creation.body
    return await ctx.lagging(partial(ctx.client.post, creation.target, body),
                             body_ids(body))


def _add_binds(ctx: RunContext, item: PlanItem, creation: _Creation) -> None:
    """Bind the edges :func:`bound_at_create` gave this object, by their live ids."""
    for name in BOUND_ON_CREATE:
        targets = [ctx.ids.live(t) for t in ctx.bound.get((item.object_id, name), ())
                   if t not in ctx.ids.failed]
        if targets:
            creation.binds[name] = targets
            creation.body[f"{name}@odata.bind"] = [
                directory_object_url(ctx.graph_url, t) for t in targets]


def _unbind(ctx: RunContext, item: PlanItem, creation: _Creation,
            exc: GraphClientError) -> None:
    """Graph refused the create with its bindings (one bad target refuses them all): the
    create goes again without, and the edges steps add every edge."""
    for name in creation.binds:
        creation.body.pop(f"{name}@odata.bind", None)
    creation.binds.clear()
    forget_binds(ctx, item.object_id)
    creation.notes.append(f"created without its first owners and members, which Graph "
                          f"refused in the create ({first_line(exc)}); added afterwards")
    creation.flags.append(UNBOUND)


def forget_binds(ctx: RunContext, object_id: str) -> None:
    """The object's create bound nothing (or nothing known): its edges steps add all."""
    for name in BOUND_ON_CREATE:
        ctx.bound.pop((object_id, name), None)


async def _created(ctx: RunContext, item: PlanItem, creation: _Creation, answer: Any
                   ) -> Outcome:
    created = answer if isinstance(answer, dict) else {}
    if creation.path == guests.INVITATIONS_PATH:
        created = _invited(creation, created)
    if not isinstance(created.get("id"), str):
        return Outcome(FAILED, "Graph answered the create without the new object's id")
    new_id = str(created["id"])
    if not is_well_formed(creation.object_type.name, new_id):
        # Never mapped: later paths and bodies would carry it.
        return Outcome(FAILED, MalformedObjectId(creation.object_type.name, new_id,
                                                 "Graph's answer to the create").message)
    app_id = created.get("appId")
    ctx.ids.created.add(new_id)
    return await _complete(ctx, item, creation, new_id, app_id if isinstance(app_id, str)
                           else None)


async def _complete(ctx: RunContext, item: PlanItem, creation: _Creation, new_id: str,
                    new_app_id: str | None) -> Outcome:
    """Map the new id, then PATCH what Graph takes only after the create."""
    old_app_id = creation.old_app_id
    ctx.ids.map(item.object_id, new_id, old_app_id, new_app_id)
    outcome = Outcome(DONE, new_id=new_id, old_app_id=old_app_id, new_app_id=new_app_id,
                      notes=creation.notes, flags=creation.flags)
    later = dict(creation.later)
    if old_app_id and new_app_id and later.get("identifierUris"):
        later["identifierUris"] = [uri.replace(old_app_id, new_app_id)
                                   for uri in later["identifierUris"]]
    object_type = creation.object_type
    if object_type.derived_types and later and "@odata.type" in creation.document:
        later = {"@odata.type": creation.document["@odata.type"], **later}
    steps = [(", ".join(sorted(creation.later)),
              partial(ctx.client.patch, object_path(object_type, new_id), later))] \
        if later else []
    licences = creation.document.get("assignedLicenses")
    action = dict(object_type.property_actions).get("assignedLicenses")
    change = license_change(licences, None) if action else None
    if action and change is not None:
        steps.append(("assignedLicenses", partial(
            ctx.client.post, action_path(action, object_type, new_id), change)))
    for what, send in steps:
        try:
            await ctx.lagging(send, [new_id])
        except FATAL:
            raise
        except GraphClientError as exc:
            # Created, so the id stays mapped; a new run sends only these steps again.
            outcome.outcome = FAILED
            outcome.reason = f"created as {new_id}, but setting {what} failed: " \
                f"{first_line(exc)}"
            outcome.error = exc
            break
    return outcome


def _creation(ctx: RunContext, object_type: ObjectType, item: PlanItem) -> _Creation:
    """The POST body, the properties PATCHed right after, notes and report flags."""
    document = ctx.document(item)
    relationships = {r.name for r in object_type.relationships}
    actions = {name for name, _ in object_type.property_actions}
    left_out = set(object_type.strip_on_create) | relationships | set(item.properties)
    keep_type = bool(object_type.derived_types)
    body: dict[str, Any] = {}
    later: dict[str, Any] = {}
    for name, value in document.items():
        if "@" in name:
            if name == "@odata.type" and keep_type:
                body[name] = value
            continue
        if name in left_out or name in actions or value is None:
            continue
        (later if name in object_type.create_only_later else body)[name] = value
    creation = _Creation(object_type, document, body, later)
    _add_binds(ctx, item, creation)
    if guests.is_guest(object_type.name, document):
        _guest_body(creation, item, send=ctx.send_invitations)
    elif object_type.name == "users":
        _user_body(creation, ctx.default_password)
    elif object_type.name == "applications":
        _application_body(creation)
    elif object_type.name == "conditionalAccessPolicies":
        _policy_body(creation, keep_state=ctx.ca_state == "as-backed-up")
    creation.body = ctx.ids.remapped(creation.body)
    creation.later = ctx.ids.remapped(creation.later)
    return creation


def _user_body(creation: _Creation, default_password: str) -> None:
    body, notes = creation.body, creation.notes
    body["passwordProfile"] = {"forceChangePasswordNextSignIn": True,
                               "password": default_password}
    identities = [i for i in body.get("identities") or []
                  if isinstance(i, dict) and i.get("signInType") != "userPrincipalName"]
    # The userPrincipalName identity is the directory's own; it follows the UPN.
    if identities:
        body["identities"] = identities
    else:
        body.pop("identities", None)
    notes.append("new password: the default one, to be changed at the next sign-in; "
                 "authentication methods must be registered again")


def _guest_body(creation: _Creation, item: PlanItem, *, send: bool) -> None:
    """An invitation instead of a create; the rest is PATCHed onto the invited user."""
    document = creation.document
    address = guests.invited_address(document)
    if address is None:
        raise UsageError("a guest without a mail address cannot be invited again")
    creation.path = guests.INVITATIONS_PATH
    creation.body = guests.invitation(document, address, send=send)
    creation.later = guests.guest_patch(creation.object_type, document,
                                        frozenset(item.properties))
    creation.notes.append(f"invited again at {address}" + (
        "; the invitation mail was sent" if send else
        "; no invitation mail was sent: give the guest the redeem link"))


def _invited(creation: _Creation, answer: Mapping[str, Any]) -> dict[str, Any]:
    """The invited user's id from an invitation, with its redeem link noted."""
    user = answer.get("invitedUser")
    url = answer.get("inviteRedeemUrl")
    if isinstance(url, str):
        creation.notes.append(f"redeem link: {url}")
    return {"id": user.get("id")} if isinstance(user, dict) else {}


def _policy_body(creation: _Creation, *, keep_state: bool) -> None:
    stored = creation.document.get("state")
    if keep_state or stored in ("disabled", REPORT_ONLY):
        return
    creation.body["state"] = REPORT_ONLY
    creation.notes.append(f"created in report-only state (it was {stored}); review its "
                          "sign-in reports, then enable it")
    creation.flags.append(NEEDS_ENABLING)


def _application_body(creation: _Creation) -> None:
    body, document, notes = creation.body, creation.document, creation.notes
    if document.get("passwordCredentials"):
        count = len(document["passwordCredentials"])
        notes.append(f"needs new client secrets: it had {count}, which cannot be restored")
        creation.flags.append(NEEDS_SECRETS)
    keys = [k for k in body.get("keyCredentials") or [] if isinstance(k, dict)]
    if keys:
        kept = [k for k in keys if k.get("key")]
        if len(kept) < len(keys):
            notes.append(f"{len(keys) - len(kept)} certificate(s) left out: their public key "
                         "was not backed up")
        body["keyCredentials"] = kept
    app_id = document.get("appId")
    uris = body.get("identifierUris")
    if isinstance(app_id, str) and isinstance(uris, list) and \
            any(isinstance(u, str) and app_id in u for u in uris):
        # api://{appId} must name the new appId, known only after the create.
        creation.later["identifierUris"] = body.pop("identifierUris")


async def _find_existing(ctx: RunContext, object_type: ObjectType,
                         document: Mapping[str, Any]) -> tuple[str, str | None] | None:
    """The object an interrupted run may have created, by the first natural key that
    finds exactly one; None when none finds any. Several matches fail the item."""
    select = "id,appId" if "appId" in object_type.select else "id"
    for names in object_type.natural_keys:
        if names == ("id",):
            continue
        values = [document.get(name) for name in names]
        if not all(isinstance(v, str) and v for v in values):
            continue
        text = " and ".join(f"{name} eq '{str(value).replace(chr(39), chr(39) * 2)}'"
                            for name, value in zip(names, values, strict=True))
        try:
            page = await ctx.client.get(object_type.path, {"$filter": text, "$select": select})
        except FATAL:
            raise
        except GraphClientError:
            continue
        found = [o for o in page.get("value") or [] if isinstance(o, dict)]
        if len(found) == 1:
            app_id = found[0].get("appId")
            return str(found[0]["id"]), app_id if isinstance(app_id, str) else None
        if len(found) > 1:
            raise UsageError(f"an interrupted run may have created this object, and "
                             f"{len(found)} objects match {text}; remove the extra one "
                             "and run the restore again")
    return None
