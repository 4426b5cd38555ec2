"""The emulator's Microsoft identity platform: tenants, app registrations, tokens.

It serves OpenID discovery, the JWKS and the v2.0 token endpoint (client credentials with
a secret or a certificate), and authenticates the bearer tokens Graph calls carry.
"""

from graph_emulator.identity.certs import (
    CertificateError,
    TlsMaterial,
    ensure_tls_files,
    new_app_certificate,
    server_ssl_context,
)
from graph_emulator.identity.graph_errors import AuthError, permission_denied
from graph_emulator.identity.permissions import (
    BACKUP_READ_PERMISSIONS,
    PRODUCT_PERMISSIONS,
    PRODUCT_READ_PERMISSIONS,
    PRODUCT_WRITE_PERMISSIONS,
)
from graph_emulator.identity.registry import AppRegistration, Registry, RegistryError, TenantRecord
from graph_emulator.identity.routes import identity_routes
from graph_emulator.identity.service import IdentityService
from graph_emulator.identity.tokens import Principal, TokenError, TokenFailure, TokenIssuer

ensure_certificates = ensure_tls_files

__all__ = [
    "BACKUP_READ_PERMISSIONS",
    "PRODUCT_PERMISSIONS",
    "PRODUCT_READ_PERMISSIONS",
    "PRODUCT_WRITE_PERMISSIONS",
    "AppRegistration",
    "AuthError",
    "CertificateError",
    "IdentityService",
    "Principal",
    "Registry",
    "RegistryError",
    "TenantRecord",
    "TlsMaterial",
    "TokenError",
    "TokenFailure",
    "TokenIssuer",
    "ensure_certificates",
    "ensure_tls_files",
    "identity_routes",
    "new_app_certificate",
    "permission_denied",
    "server_ssl_context",
]
