"""OpenID Connect discovery for a tenant and the signing keys, as Entra publishes them.

The document mirrors ``https://login.microsoftonline.com/{tenant}/v2.0/.well-known/
openid-configuration`` with every endpoint on the emulator's base URL. As on the real
service, a tenant addressed by a domain name gets a document written with its id.
"""

from __future__ import annotations

from typing import Any

from graph_emulator.identity.registry import TenantRecord
from graph_emulator.identity.tokens import SigningKey


def issuer_v2(base_url: str, tenant_id: str) -> str:
    """The v2.0 issuer of a tenant on this emulator."""
    return f"{base_url.rstrip('/')}/{tenant_id}/v2.0"


def openid_configuration(tenant: TenantRecord, base_url: str) -> dict[str, Any]:
    """The v2.0 OpenID configuration document of ``tenant``."""
    base = f"{base_url.rstrip('/')}/{tenant.tenant_id}"
    return {
        "token_endpoint": f"{base}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": [
            "client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": f"{base}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": issuer_v2(base_url, tenant.tenant_id),
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
        "claims_supported": [
            "sub", "iss", "cloud_instance_name", "cloud_instance_host_name",
            "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr",
            "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
        "kerberos_endpoint": f"{base}/kerberos",
        "tenant_region_scope": "EU",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    }


def jwks(key: SigningKey, tenant: TenantRecord, base_url: str) -> dict[str, Any]:
    """The JSON Web Key Set that verifies the tokens this emulator issues."""
    return {"keys": [key.jwk(issuer_v2(base_url, tenant.tenant_id))]}
