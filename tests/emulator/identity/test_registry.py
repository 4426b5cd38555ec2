"""Tenants, app registrations and credentials, and their save/load round trip."""

from __future__ import annotations

import json

import pytest

from graph_emulator.identity import (
    BACKUP_READ_PERMISSIONS,
    PRODUCT_PERMISSIONS,
    PRODUCT_WRITE_PERMISSIONS,
    Registry,
    RegistryError,
)
from graph_emulator.identity.certs import AppCertificate


def test_product_permissions_cover_backup_and_restore() -> None:
    assert BACKUP_READ_PERMISSIONS < PRODUCT_PERMISSIONS
    assert not BACKUP_READ_PERMISSIONS & PRODUCT_WRITE_PERMISSIONS
    assert {"User.ReadWrite.All", "Policy.ReadWrite.ConditionalAccess",
            "AuditLog.Read.All"} <= PRODUCT_PERMISSIONS


def test_round_trip_keeps_credentials_but_never_a_secret_value(
        app_certificate: AppCertificate) -> None:
    registry = Registry()
    tenant = registry.add_tenant("contoso", domains=["Contoso.com"])
    app = registry.add_app(tenant.tenant_id, "daemon", BACKUP_READ_PERMISSIONS)
    secret = registry.add_secret(app)
    registry.add_certificate(app, app_certificate.certificate_pem)

    saved = json.dumps(registry.to_dict())
    assert secret not in saved
    loaded = Registry.from_dict(json.loads(saved))

    again = loaded.app(tenant.tenant_id, app.client_id)
    assert again is not None
    assert again.permissions == BACKUP_READ_PERMISSIONS
    assert any(s.matches(secret) for s in again.secrets)
    assert not any(s.matches(secret + "x") for s in again.secrets)
    assert again.certificates[0].sha256_hex == app.certificates[0].sha256_hex
    assert loaded.find_tenant("contoso.COM") is not None


def test_secrets_look_like_entra_secrets() -> None:
    registry = Registry()
    app = registry.add_app(registry.add_tenant("contoso").tenant_id, "daemon", ())
    secret = registry.add_secret(app)
    assert len(secret) == 40
    assert secret[3:6] == "8Q~"
    assert app.secrets[0].hint == secret[:3]


def test_tenant_is_found_by_id_and_domains_only() -> None:
    registry = Registry()
    tenant = registry.add_tenant("contoso")
    assert registry.find_tenant(tenant.tenant_id.upper()) is tenant
    assert registry.find_tenant("contoso.onmicrosoft.com") is tenant
    assert registry.find_tenant("fabrikam.onmicrosoft.com") is None


def test_grant_and_revoke_change_permissions() -> None:
    registry = Registry()
    app = registry.add_app(registry.add_tenant("contoso").tenant_id, "daemon",
                           {"User.Read.All"})
    registry.grant(app, {"Group.Read.All"})
    registry.revoke(app, {"User.Read.All"})
    assert app.permissions == {"Group.Read.All"}


@pytest.mark.parametrize("action", [
    lambda r: r.add_tenant("Not A Label"),
    lambda r: r.add_tenant("contoso"),
    lambda r: r.add_tenant("other", domains=["contoso.onmicrosoft.com"]),
    lambda r: r.add_app(r.tenants()[0].tenant_id, "x", {"read everything"}),
    lambda r: r.add_app("not-a-guid", "x", ()),
    lambda r: r.add_app("0b1c2d3e-0000-4000-8000-000000000999", "x", ()),
    lambda r: r.remove_app(r.tenants()[0].tenant_id, "0b1c2d3e-0000-4000-8000-000000000999"),
    lambda r: r.add_secret(next(r.apps()), "short"),
    lambda r: Registry.from_dict({"format": 99}),
])
def test_impossible_requests_raise_registry_error(action: object) -> None:
    registry = Registry()
    tenant = registry.add_tenant("contoso")
    registry.add_app(tenant.tenant_id, "daemon", ())
    with pytest.raises(RegistryError):
        action(registry)  # type: ignore[operator]
