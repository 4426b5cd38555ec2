"""The v2.0 token endpoint, client-credentials grant, with a secret or a certificate.

It answers exactly as the Microsoft identity platform does: a Bearer token response on
success and AADSTS error bodies with the real codes and HTTP statuses otherwise.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from graph_emulator.clock import Clock
from graph_emulator.identity import sts_errors
from graph_emulator.identity.assertion import JWT_BEARER, verify_client_assertion
from graph_emulator.identity.registry import AppRegistration, Registry, TenantRecord
from graph_emulator.identity.sts_errors import StsError
from graph_emulator.identity.tokens import (
    GRAPH_APP_ID,
    GRAPH_RESOURCE,
    CredentialKind,
    IssuedToken,
    TokenIssuer,
)

DEFAULT_SUFFIX = "/.default"
GRAPH_RESOURCES = frozenset({GRAPH_RESOURCE, GRAPH_RESOURCE + "/", GRAPH_APP_ID})


@dataclass(frozen=True)
class TokenRequest:
    """One POST to ``/{tenant}/oauth2/v2.0/token``."""

    tenant: str
    form: Mapping[str, str]
    base_url: str
    authorization: str | None = None
    correlation_id: str | None = None


class TokenEndpoint:
    """Turns token requests into (HTTP status, JSON body) pairs."""

    def __init__(self, registry: Registry, issuer: TokenIssuer, clock: Clock) -> None:
        self.registry = registry
        self.issuer = issuer
        self.clock = clock

    def respond(self, request: TokenRequest) -> tuple[int, dict[str, Any]]:
        """The token response, or the identity platform's error response."""
        try:
            issued = self._grant(request)
        except StsError as error:
            return error.status, error.body(self.clock.now(), request.correlation_id)
        return 200, {"token_type": "Bearer", "expires_in": issued.expires_in,
                     "ext_expires_in": issued.expires_in, "access_token": issued.access_token}

    def _grant(self, request: TokenRequest) -> IssuedToken:
        tenant = self.registry.find_tenant(request.tenant)
        if tenant is None:
            raise sts_errors.tenant_not_found(request.tenant)
        form = request.form
        grant_type = form.get("grant_type", "")
        if not grant_type:
            raise sts_errors.missing_parameter("grant_type")
        if grant_type != "client_credentials":
            raise sts_errors.unsupported_grant(grant_type)
        client_id, secret = _client_authentication(request)
        if not client_id:
            raise sts_errors.missing_parameter("client_id")
        scope = form.get("scope", "").strip()
        if not scope:
            raise sts_errors.missing_parameter("scope")
        app = self.registry.app(tenant.tenant_id, client_id)
        if app is None:
            raise sts_errors.app_not_found(client_id, tenant.tenant_id)
        _check_scope(scope, tenant)
        kind = self._authenticate(app, secret, request, tenant)
        return self.issuer.issue(app, kind)

    def _authenticate(self, app: AppRegistration, secret: str | None, request: TokenRequest,
                      tenant: TenantRecord) -> CredentialKind:
        if secret:
            self._check_secret(app, secret)
            return CredentialKind.SECRET
        assertion = request.form.get("client_assertion", "")
        if not assertion:
            raise sts_errors.credentials_missing()
        assertion_type = request.form.get("client_assertion_type", "")
        if not assertion_type:
            raise sts_errors.missing_parameter("client_assertion_type")
        if assertion_type != JWT_BEARER:
            raise sts_errors.unexpected_assertion_type()
        verify_client_assertion(assertion, app, audiences=_audiences(request, tenant),
                                now=self.clock.now())
        return CredentialKind.CERTIFICATE

    def _check_secret(self, app: AppRegistration, secret: str) -> None:
        matching = [s for s in app.secrets if s.matches(secret)]
        if not matching:
            raise sts_errors.invalid_secret(app.client_id)
        if all(s.expired(self.clock.now()) for s in matching):
            raise sts_errors.expired_secret(app.client_id)


def _client_authentication(request: TokenRequest) -> tuple[str, str | None]:
    """Client id and secret from the form (client_secret_post) or Basic auth (_basic)."""
    header = request.authorization or ""
    if header[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise sts_errors.missing_parameter("client_id") from exc
        user, _, password = decoded.partition(":")
        return unquote(user), unquote(password) or None
    return request.form.get("client_id", ""), request.form.get("client_secret") or None


def _check_scope(scope: str, tenant: TenantRecord) -> None:
    scopes = scope.split()
    if len(scopes) > 1:
        raise sts_errors.scope_invalid(scope)
    if not scope.endswith(DEFAULT_SUFFIX):
        raise sts_errors.scope_not_default(scope)
    resource = scope[: -len(DEFAULT_SUFFIX)]
    if resource.lower() not in GRAPH_RESOURCES:
        raise sts_errors.resource_not_found(resource, tenant.tenant_id)


def _audiences(request: TokenRequest, tenant: TenantRecord) -> set[str]:
    """The ``aud`` values a client assertion may carry for this endpoint."""
    base = request.base_url.rstrip("/")
    accepted = {f"{base}/{tenant.tenant_id}/v2.0"}
    for segment in {request.tenant, tenant.tenant_id}:
        accepted |= {f"{base}/{segment}/oauth2/v2.0/token", f"{base}/{segment}/oauth2/token"}
    return accepted
