"""Tenants and app registrations the identity platform knows, with their credentials.

An app registration lives in one tenant; the same client id registered in several
tenants models a multi-tenant app consented in each. Permissions are the application
permissions (app roles of Microsoft Graph) granted to the app in that tenant.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from graph_emulator.identity.credentials import (
    CertificateCredential,
    SecretCredential,
    new_secret_value,
)
from graph_emulator.identity.permissions import (
    BACKUP_READ_PERMISSIONS,
    PRODUCT_PERMISSIONS,
    PRODUCT_READ_PERMISSIONS,
    PRODUCT_WRITE_PERMISSIONS,
)

__all__ = [
    "BACKUP_READ_PERMISSIONS",
    "PRODUCT_PERMISSIONS",
    "PRODUCT_READ_PERMISSIONS",
    "PRODUCT_WRITE_PERMISSIONS",
    "AppRegistration",
    "Registry",
    "RegistryError",
    "TenantRecord",
]

_DOMAIN_LABEL = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_PERMISSION = re.compile(r"^[A-Za-z]+(\.[A-Za-z]+)+$")
REGISTRY_FORMAT = 1


class RegistryError(Exception):
    """A registry operation was asked something impossible (unknown tenant, bad name, ...)."""


@dataclass
class TenantRecord:
    """A tenant: id, name and the domain names it can be addressed by."""

    tenant_id: str
    name: str
    domains: set[str] = field(default_factory=set)

    @property
    def initial_domain(self) -> str:
        return f"{self.name}.onmicrosoft.com"

    def answers_to(self, segment: str) -> bool:
        lowered = segment.lower()
        return lowered == self.tenant_id or lowered in self.domains


@dataclass
class AppRegistration:
    """An app registration in one tenant: identity, credentials and granted permissions."""

    tenant_id: str
    client_id: str
    display_name: str
    permissions: set[str] = field(default_factory=set)
    secrets: list[SecretCredential] = field(default_factory=list)
    certificates: list[CertificateCredential] = field(default_factory=list)
    service_principal_id: str | None = None

    def certificate_by_thumbprint(
        self, *, sha1_hex: str | None = None, sha256_hex: str | None = None
    ) -> CertificateCredential | None:
        """The registered certificate with this SHA-256 or SHA-1 thumbprint (hex), if any."""
        for credential in self.certificates:
            if (sha256_hex and credential.sha256_hex == sha256_hex.upper()) or (
                    sha1_hex and credential.sha1_hex == sha1_hex.upper()):
                return credential
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "tenantId": self.tenant_id, "clientId": self.client_id,
            "displayName": self.display_name, "permissions": sorted(self.permissions),
            "secrets": [s.to_dict() for s in self.secrets],
            "certificates": [c.to_dict() for c in self.certificates],
            "servicePrincipalId": self.service_principal_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AppRegistration:
        return cls(
            data["tenantId"], data["clientId"], data["displayName"], set(data["permissions"]),
            [SecretCredential.from_dict(s) for s in data["secrets"]],
            [CertificateCredential.from_dict(c) for c in data["certificates"]],
            data.get("servicePrincipalId"),
        )


class Registry:
    """Every tenant and app registration of one emulator; safe to use from several threads."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._tenants: dict[str, TenantRecord] = {}
        self._apps: dict[tuple[str, str], AppRegistration] = {}

    def add_tenant(
        self, name: str, *, tenant_id: str | None = None, domains: Iterable[str] = ()
    ) -> TenantRecord:
        """Register a tenant whose initial domain is ``{name}.onmicrosoft.com``."""
        if not _DOMAIN_LABEL.match(name):
            raise RegistryError(f"tenant name {name!r} is not a valid domain label")
        tid = _uuid(tenant_id or str(uuid.uuid4()), "tenant id")
        tenant = TenantRecord(tid, name)
        tenant.domains = {tenant.initial_domain, *(d.lower() for d in domains)}
        with self._lock:
            if tid in self._tenants:
                raise RegistryError(f"tenant {tid} already exists")
            taken = {d for t in self._tenants.values() for d in t.domains}
            if clash := tenant.domains & taken:
                raise RegistryError(f"domain {sorted(clash)[0]} belongs to another tenant")
            self._tenants[tid] = tenant
        return tenant

    def add_domain(self, tenant_id: str, domain: str) -> None:
        """Let a tenant be addressed by another verified domain name too."""
        with self._lock:
            self.tenant(tenant_id).domains.add(domain.lower())

    def tenant(self, tenant_id: str) -> TenantRecord:
        """A tenant by id, or RegistryError."""
        with self._lock:
            found = self._tenants.get(tenant_id.lower())
        if found is None:
            raise RegistryError(f"no tenant {tenant_id}")
        return found

    def find_tenant(self, segment: str) -> TenantRecord | None:
        """The tenant an authority path segment names: its id or one of its domains."""
        with self._lock:
            return next((t for t in self._tenants.values() if t.answers_to(segment)), None)

    def tenants(self) -> list[TenantRecord]:
        with self._lock:
            return list(self._tenants.values())

    def add_app(
        self, tenant_id: str, display_name: str, permissions: Iterable[str], *,
        client_id: str | None = None, service_principal_id: str | None = None,
    ) -> AppRegistration:
        """Register an app in a tenant with the given application permissions granted."""
        granted = _checked_permissions(permissions)
        cid = _uuid(client_id or str(uuid.uuid4()), "client id")
        with self._lock:
            tenant = self.tenant(tenant_id)
            if (tenant.tenant_id, cid) in self._apps:
                raise RegistryError(f"app {cid} already exists in tenant {tenant.tenant_id}")
            app = AppRegistration(tenant.tenant_id, cid, display_name, granted,
                                  service_principal_id=service_principal_id)
            self._apps[(tenant.tenant_id, cid)] = app
        return app

    def app(self, tenant_id: str, client_id: str) -> AppRegistration | None:
        """An app registration in a tenant, or None."""
        with self._lock:
            return self._apps.get((tenant_id.lower(), client_id.lower()))

    def apps(self, tenant_id: str | None = None) -> Iterator[AppRegistration]:
        with self._lock:
            selected = [a for a in self._apps.values()
                        if tenant_id is None or a.tenant_id == tenant_id]
        return iter(selected)

    def remove_app(self, tenant_id: str, client_id: str) -> None:
        with self._lock:
            if self._apps.pop((tenant_id.lower(), client_id.lower()), None) is None:
                raise RegistryError(f"no app {client_id} in tenant {tenant_id}")

    def add_secret(
        self, app: AppRegistration, value: str | None = None, *, end_time: float | None = None
    ) -> str:
        """Add a client secret and return its value (the registry keeps only a hash)."""
        plain = value if value is not None else new_secret_value()
        if len(plain) < 8:
            raise RegistryError("a client secret must be at least 8 characters long")
        with self._lock:
            app.secrets.append(SecretCredential.create(plain, end_time=end_time))
        return plain

    def add_certificate(
        self, app: AppRegistration, certificate_pem: str | bytes
    ) -> CertificateCredential:
        """Register a public certificate the app signs client assertions with."""
        credential = CertificateCredential.create(certificate_pem)
        with self._lock:
            app.certificates.append(credential)
        return credential

    def grant(self, app: AppRegistration, permissions: Iterable[str]) -> None:
        """Grant application permissions (admin consent)."""
        granted = _checked_permissions(permissions)
        with self._lock:
            app.permissions |= granted

    def revoke(self, app: AppRegistration, permissions: Iterable[str]) -> None:
        """Remove granted application permissions."""
        with self._lock:
            app.permissions -= set(permissions)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able snapshot (secrets only as hashes)."""
        with self._lock:
            return {
                "format": REGISTRY_FORMAT,
                "tenants": [{"tenantId": t.tenant_id, "name": t.name,
                             "domains": sorted(t.domains)} for t in self._tenants.values()],
                "apps": [a.to_dict() for a in self._apps.values()],
            }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Registry:
        """Rebuild a registry saved by :meth:`to_dict`."""
        if data.get("format") != REGISTRY_FORMAT:
            raise RegistryError(f"unsupported registry format {data.get('format')!r}")
        registry = cls()
        for tenant in data["tenants"]:
            record = TenantRecord(tenant["tenantId"], tenant["name"], set(tenant["domains"]))
            registry._tenants[record.tenant_id] = record
        for raw in data["apps"]:
            app = AppRegistration.from_dict(raw)
            registry._apps[(app.tenant_id, app.client_id)] = app
        return registry


def _uuid(value: str, what: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError as exc:
        raise RegistryError(f"{what} {value!r} is not a GUID") from exc


def _checked_permissions(permissions: Iterable[str]) -> set[str]:
    granted = set(permissions)
    if bad := sorted(p for p in granted if not _PERMISSION.match(p)):
        raise RegistryError(f"{bad[0]!r} is not a permission name such as User.Read.All")
    return granted
