"""Registering tenants, checking their app's permissions, and the admin-consent link."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, fields, replace
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt

from entra_backup.config import TenantRecord
from entra_backup.domain.errors import UsageError
from entra_backup.domain.object_types import (
    TYPES,
    ObjectType,
    by_name,
    missing_write_permissions,
)
from entra_backup.graph.client import GraphClient, TenantConnection
from entra_backup.graph.errors import PermissionDenied

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
                     re.IGNORECASE)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def check_tenant_name(name: str) -> str:
    """A registry name: letters, digits, dot, dash, underscore."""
    if not _NAME.match(name):
        raise UsageError(f"tenant name {name!r} must be 1-64 letters, digits, '.', '-' or "
                         "'_', starting with a letter or digit")
    return name


def check_tenant_id(value: str) -> str:
    """A tenant id is a GUID or a verified domain name (contoso.onmicrosoft.com)."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        pass
    if _DOMAIN.match(value):
        return value.lower()
    raise UsageError(f"--tenant-id {value!r} is neither a GUID nor a domain name such as "
                     "contoso.onmicrosoft.com; check it for a typo")


def check_client_id(value: str) -> str:
    """An application (client) id is a GUID."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise UsageError(f"--client-id {value!r} is not a GUID; it is the application "
                         "(client) id shown on the app registration's overview") from None


def edit_record(record: TenantRecord, changes: dict[str, Any]) -> tuple[TenantRecord, list[str]]:
    """``record`` with ``changes`` applied, and the names of the fields that really changed.

    A new client secret variable replaces a certificate and the other way round: a tenant
    signs in with exactly one credential.
    """
    if changes.get("secret_env") is not None:
        changes = {**changes, "certificate": None, "certificate_passphrase_env": None}
    elif changes.get("certificate") is not None:
        changes = {**changes, "secret_env": None}
    known = {item.name for item in fields(TenantRecord)}
    unknown = set(changes) - known
    if unknown:
        raise UsageError(f"cannot edit {', '.join(sorted(unknown))}")
    edited = replace(record, **changes)
    if edited.certificate_passphrase_env and not edited.certificate:
        raise UsageError("--certificate-passphrase-env needs a certificate: give "
                         "--certificate as well")
    changed = [name for name in sorted(known) if getattr(edited, name) != getattr(record, name)]
    return edited, changed


@dataclass(frozen=True)
class TypeAccess:
    """Whether the app may read one object type."""

    type: str
    granted: bool
    needed: str
    granted_by: str | None

    def to_json(self) -> dict[str, Any]:
        """As ``tenant check --json`` prints it."""
        return {"type": self.type, "granted": self.granted, "needed": self.needed,
                "granted_by": self.granted_by}


def access_report(roles: list[str], types: tuple[ObjectType, ...] = TYPES) -> list[TypeAccess]:
    """Per type: granted (and by which permission) or the least-privileged one to add."""
    held = {role.lower(): role for role in roles}
    report = []
    for object_type in types:
        by = next((held[p.lower()] for p in object_type.read_permissions if p.lower() in held),
                  None)
        report.append(TypeAccess(object_type.name, by is not None,
                                 object_type.read_permission, by))
    return report


async def check_access(connection: TenantConnection) -> tuple[list[str], list[TypeAccess]]:
    """Sign in, then read one page of every type: what the app may really read.

    The token's ``roles`` claim names the permissions granted (it comes from the tenant's
    own authority over TLS, so it is read without verifying the signature; only Graph
    needs to). Each type is then read once with ``$select=id``, so a wrong Graph URL, a
    permission not yet consented or a missing licence shows here, not in the first backup.
    """
    async with GraphClient.connect(connection) as client:
        granted = await token_roles(client)
        report = []
        for claimed in access_report(granted):
            object_type = by_name(claimed.type)
            try:
                await client.get(object_type.path, {"$select": "id"},
                                 permission=object_type.read_permission)
            except PermissionDenied:
                report.append(TypeAccess(claimed.type, False, claimed.needed, None))
            else:
                report.append(TypeAccess(claimed.type, True, claimed.needed, claimed.granted_by
                                         or "a permission the token does not list"))
    return granted, report


async def token_roles(client: GraphClient) -> list[str]:
    """The application permissions in the ``roles`` claim of the client's token."""
    if client.tokens is None:
        return []
    claims = jwt.decode(await client.tokens.atoken(), options={"verify_signature": False})
    roles = claims.get("roles", [])
    return [str(role) for role in roles] if isinstance(roles, list) else []


def missing_for_restore(roles: list[str], plan_types: list[str]) -> dict[str, tuple[str, ...]]:
    """Per type a restore will write: the write permissions the token lacks."""
    return missing_write_permissions(roles, [by_name(name) for name in plan_types])


def consent_url(connection: TenantConnection, redirect_uri: str | None = None) -> str:
    """The admin-consent link an administrator of the tenant opens to grant the app.

    The v2.0 admin-consent endpoint with the ``.default`` scope of Graph grants every
    application permission configured on the app registration.
    """
    endpoints = connection.endpoints()
    parts = urlsplit(endpoints.authority)
    query = {"client_id": connection.client_id, "scope": endpoints.scope}
    if redirect_uri:
        query["redirect_uri"] = redirect_uri
    return (f"{parts.scheme}://{parts.netloc}/{connection.tenant_id}/v2.0/adminconsent?"
            + urlencode(query))
