"""Issuing and verifying access tokens on the emulator clock, without HTTP."""

from __future__ import annotations

import pytest

from graph_emulator.clock import Clock
from graph_emulator.identity import PRODUCT_PERMISSIONS, Registry
from graph_emulator.identity.registry import AppRegistration
from graph_emulator.identity.tokens import (
    CredentialKind,
    SigningKey,
    TokenError,
    TokenFailure,
    TokenIssuer,
)


@pytest.fixture
def app() -> AppRegistration:
    registry = Registry()
    tenant = registry.add_tenant("contoso")
    return registry.add_app(tenant.tenant_id, "daemon", PRODUCT_PERMISSIONS,
                            service_principal_id="6c3b2a41-0000-4000-8000-00000000beef")


@pytest.fixture
def issuer(signing_key: SigningKey) -> TokenIssuer:
    return TokenIssuer(Clock(frozen=True), key=signing_key)


def failure_of(issuer: TokenIssuer, token: str | None, tenant: str | None = None) -> TokenFailure:
    with pytest.raises(TokenError) as caught:
        issuer.verify(token, tenant_id=tenant)
    return caught.value.failure


def test_verified_token_names_the_app_and_its_roles(issuer: TokenIssuer,
                                                    app: AppRegistration) -> None:
    principal = issuer.verify(issuer.issue(app, CredentialKind.SECRET).access_token,
                              tenant_id=app.tenant_id)
    assert principal.tenant_id == app.tenant_id
    assert principal.client_id == app.client_id
    assert principal.roles == PRODUCT_PERMISSIONS
    assert principal.object_id == app.service_principal_id


def test_lifetime_is_configurable_and_enforced(issuer: TokenIssuer, app: AppRegistration) -> None:
    issuer.lifetime = 60
    issued = issuer.issue(app, CredentialKind.CERTIFICATE)
    assert issued.expires_in == 60
    issuer.clock.advance(59)
    issuer.verify(issued.access_token)
    issuer.clock.advance(1)
    assert failure_of(issuer, issued.access_token) is TokenFailure.EXPIRED


def test_token_from_the_future_is_not_yet_valid(signing_key: SigningKey,
                                                app: AppRegistration) -> None:
    now = Clock(frozen=True).now()
    later = TokenIssuer(Clock(start=now + 3600, frozen=True), key=signing_key)
    present = TokenIssuer(Clock(start=now, frozen=True), key=signing_key)
    token = later.issue(app, CredentialKind.SECRET).access_token
    assert failure_of(present, token) is TokenFailure.NOT_YET_VALID


def test_token_for_another_tenant_is_refused(issuer: TokenIssuer, app: AppRegistration) -> None:
    token = issuer.issue(app, CredentialKind.SECRET).access_token
    other = "0b1c2d3e-0000-4000-8000-000000000999"
    assert failure_of(issuer, token, other) is TokenFailure.WRONG_TENANT


@pytest.mark.parametrize(("token", "failure"), [
    (None, TokenFailure.MISSING),
    ("", TokenFailure.MISSING),
    ("abc", TokenFailure.MALFORMED),
    ("a.b.c", TokenFailure.MALFORMED),
])
def test_unusable_tokens_name_their_failure(issuer: TokenIssuer, token: str | None,
                                            failure: TokenFailure) -> None:
    assert failure_of(issuer, token) is failure


def test_each_token_has_a_unique_id(issuer: TokenIssuer, app: AppRegistration) -> None:
    first = issuer.issue(app, CredentialKind.SECRET).access_token
    second = issuer.issue(app, CredentialKind.SECRET).access_token
    assert first != second
