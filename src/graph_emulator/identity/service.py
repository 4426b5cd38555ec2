"""The identity platform of one emulator: registry, token issuer and clock together."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from graph_emulator.clock import Clock
from graph_emulator.identity import sts_errors
from graph_emulator.identity.discovery import jwks, openid_configuration
from graph_emulator.identity.graph_errors import AuthError, bearer_token
from graph_emulator.identity.registry import Registry, RegistryError
from graph_emulator.identity.token_endpoint import TokenEndpoint, TokenRequest
from graph_emulator.identity.tokens import Principal, TokenError, TokenIssuer


class IdentityService:
    """Serves discovery and tokens, and authenticates the bearer tokens of Graph calls."""

    def __init__(self, clock: Clock, registry: Registry | None = None,
                 issuer: TokenIssuer | None = None) -> None:
        self.clock = clock
        self.registry = registry or Registry()
        self.issuer = issuer or TokenIssuer(clock)
        self.token_endpoint = TokenEndpoint(self.registry, self.issuer, clock)

    def add_tenant(self, tenant_id: str, initial_domain: str) -> None:
        """Register a tenant by id and initial domain (``{name}.onmicrosoft.com``)."""
        name, _, suffix = initial_domain.lower().partition(".")
        if suffix != "onmicrosoft.com":
            raise RegistryError(f"{initial_domain!r} is not an initial *.onmicrosoft.com domain")
        self.registry.add_tenant(name, tenant_id=tenant_id)

    def create_app(self, tenant_id: str, display_name: str, permissions: Iterable[str], *,
                   certificate_pem: str | bytes | None = None) -> tuple[str, str]:
        """Register an app with a new client secret (and a certificate if given).

        Returns the client id and the secret's value, which is not stored anywhere.
        """
        app = self.registry.add_app(tenant_id, display_name, permissions)
        if certificate_pem:
            self.registry.add_certificate(app, certificate_pem)
        return app.client_id, self.registry.add_secret(app)

    def export_state(self) -> dict[str, Any]:
        """The registry as a JSON-able dict (secrets as hashes only)."""
        return self.registry.to_dict()

    def import_state(self, state: dict[str, Any]) -> None:
        """Replace tenants and apps with a state from :meth:`export_state`.

        The signing key stays: tokens issued before a rollback keep verifying.
        """
        self.registry = Registry.from_dict(state)
        self.token_endpoint = TokenEndpoint(self.registry, self.issuer, self.clock)

    def authenticate(self, authorization_header: str | None,
                     tenant_hint: str | None = None) -> Principal:
        """The calling app of a Graph request; AuthError (Graph's 401) when the token fails.

        ``tenant_hint`` is the tenant the call addresses, when the caller names one; a
        token issued for another tenant is then refused.
        """
        token = bearer_token(authorization_header)
        try:
            return self.issuer.verify(token, tenant_id=tenant_hint)
        except TokenError as error:
            raise AuthError.from_token_error(error, token) from error

    def token(self, tenant: str, form: Mapping[str, str], *, base_url: str,
              authorization: str | None = None,
              correlation_id: str | None = None) -> tuple[int, dict[str, Any]]:
        """Answer a POST to the token endpoint: (HTTP status, JSON body)."""
        request = TokenRequest(tenant, form, base_url, authorization, correlation_id)
        return self.token_endpoint.respond(request)

    def discovery(self, tenant: str, base_url: str,
                  correlation_id: str | None = None) -> tuple[int, dict[str, Any]]:
        """The OpenID configuration of a tenant, or AADSTS90002 for an unknown one."""
        record = self.registry.find_tenant(tenant)
        if record is None:
            error = sts_errors.tenant_not_found(tenant, discovery=True)
            return error.status, error.body(self.clock.now(), correlation_id)
        return 200, openid_configuration(record, base_url)

    def keys(self, tenant: str, base_url: str,
             correlation_id: str | None = None) -> tuple[int, dict[str, Any]]:
        """The tenant's JWKS, or AADSTS90002 for an unknown tenant."""
        record = self.registry.find_tenant(tenant)
        if record is None:
            error = sts_errors.tenant_not_found(tenant, discovery=True)
            return error.status, error.body(self.clock.now(), correlation_id)
        return 200, jwks(self.issuer.key, record, base_url)
