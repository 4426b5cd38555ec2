"""Object ids as they may appear in a Graph URL path: checked for their type's form, escaped.

Ids come from snapshots, restore plans, journals and Graph's own answers, and a restore
puts them into paths (``PATCH /users/{id}``, ``DELETE .../members/{id}/$ref``) and into
the URLs of ``@odata.bind`` and ``@odata.id``. An id holding ``/``, ``?``, ``#``, ``&``
or an escape such as ``%2F`` would make such a request name another resource or carry
other query options, so every id is checked against the form Graph gives ids of its type
before it joins a path, then escaped (``quote(id, safe="")``) all the same.

Forms (sources: the v1.0 documentation examples of each type, graph-facts.md §5.5-5.7):

* ``GUID``: directory objects (users, groups, devices, applications, service principals,
  administrative units, directory roles), role definitions (built-in ones keep their
  template's GUID), group settings, named locations, Conditional Access policies;
* ``COMPOSITE``: base64url strings Graph builds from several GUIDs, with an optional
  ``-1`` style suffix: oauth2 permission grants, unified role assignments, app role
  assignments and scoped role members;
* ``SKU``: ``{tenantId}_{skuId}`` of subscribed SKUs;
* ``NAME``: the fixed id of a singleton (``authorizationPolicy``).
"""

from __future__ import annotations

import re
from enum import Enum
from urllib.parse import quote

from entra_backup.domain.errors import EntraBackupError

_GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
SHOWN = 60
"""Characters of a refused id the error shows (an id may be any length)."""


class IdForm(Enum):
    """The shapes Graph gives object ids."""

    GUID = re.compile(_GUID)
    COMPOSITE = re.compile(r"[A-Za-z0-9_-]{1,512}")
    SKU = re.compile(f"{_GUID}_{_GUID}")
    NAME = re.compile(r"[A-Za-z][A-Za-z0-9]{0,127}")


ID_FORMS: dict[str, IdForm] = {
    # Every row of the object-type table (tests/domain/test_object_ids.py keeps them in step).
    "administrativeUnits": IdForm.GUID,
    "users": IdForm.GUID,
    "groups": IdForm.GUID,
    "devices": IdForm.GUID,
    "applications": IdForm.GUID,
    "servicePrincipals": IdForm.GUID,
    "oauth2PermissionGrants": IdForm.COMPOSITE,
    "roleDefinitions": IdForm.GUID,
    "directoryRoles": IdForm.GUID,
    "roleAssignments": IdForm.COMPOSITE,
    "groupSettings": IdForm.GUID,
    "authorizationPolicy": IdForm.NAME,
    "namedLocations": IdForm.GUID,
    "conditionalAccessPolicies": IdForm.GUID,
    "subscribedSkus": IdForm.SKU,
    # Ids that are not rows of the table but reach paths too.
    "directoryObjects": IdForm.GUID,
    "appRoleAssignments": IdForm.COMPOSITE,
    "scopedRoleMembers": IdForm.COMPOSITE,
}
"""The id form of each kind of object a path may name."""

ENTITY_KINDS: dict[str, str] = {
    "appRoleAssignedTo": "appRoleAssignments",
    "appRoleAssignments": "appRoleAssignments",
    "scopedRoleMembers": "scopedRoleMembers",
}
"""Relationships whose edges are entities with ids of their own, and the kind of those."""


class MalformedObjectId(EntraBackupError):
    """An object id does not have the form Graph gives ids of its type, so it was not put
    into a Graph path (it could name another resource or add query options)."""

    exit_code = 37

    def __init__(self, kind: str, object_id: object, source: str | None = None) -> None:
        shown = repr(object_id) if len(repr(object_id)) <= SHOWN else \
            repr(object_id)[:SHOWN] + "..."
        where = f" in {source}" if source else ""
        super().__init__(f"malformed {kind} id {shown}{where}: {_expected(kind)}; refused "
                         "before it reached a Graph request")
        self.kind = kind
        self.object_id = object_id
        self.source = source


def is_well_formed(kind: str, object_id: object) -> bool:
    """Whether ``object_id`` has the form of ``kind``'s ids (``KeyError`` for an unknown
    kind: a new type must say what its ids look like)."""
    form = ID_FORMS[kind]
    return isinstance(object_id, str) and form.value.fullmatch(object_id) is not None


def checked_id(kind: str, object_id: object, source: str | None = None) -> str:
    """``object_id`` unchanged when well formed; else :class:`MalformedObjectId`."""
    if not is_well_formed(kind, object_id):
        raise MalformedObjectId(kind, object_id, source)
    assert isinstance(object_id, str)
    return object_id


def path_segment(kind: str, object_id: object, source: str | None = None) -> str:
    """``object_id`` as one path segment: checked for ``kind``'s form, then escaped."""
    return quote(checked_id(kind, object_id, source), safe="")


def edge_kind(relationship: str) -> str:
    """The kind of the ids a relationship's plan edges hold: its entities' own ids for
    entity relationships, else the directory objects it links (every relationship of
    the table links directory objects)."""
    return ENTITY_KINDS.get(relationship, "directoryObjects")


def _expected(kind: str) -> str:
    form = ID_FORMS.get(kind)
    if form is IdForm.GUID:
        return "expected a GUID"
    if form is IdForm.COMPOSITE:
        return "expected letters, digits, '-' and '_' (base64url)"
    if form is IdForm.SKU:
        return "expected two GUIDs joined by '_'"
    return "expected a plain name"
