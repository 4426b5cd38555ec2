"""Access tokens: issued as Entra issues v1 app-only tokens for Graph, and verified.

One RSA signing key per emulator run; its ``kid`` (the key certificate's SHA-1 thumbprint,
as Entra does) is published in the JWKS. Times come from the emulator clock, so a test
expires a token by advancing the clock instead of sleeping.
"""

from __future__ import annotations

import base64
import enum
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from graph_emulator.clock import Clock
from graph_emulator.identity.registry import AppRegistration

GRAPH_RESOURCE = "https://graph.microsoft.com"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
GRAPH_AUDIENCES = frozenset({GRAPH_RESOURCE, GRAPH_RESOURCE + "/", GRAPH_APP_ID})
VERIFIED_CACHE_SIZE = 4096
DEFAULT_LIFETIME = 3599
ISSUED_EARLIER = 300
"""Entra back-dates ``iat``/``nbf`` by five minutes to absorb clock skew."""


class CredentialKind(enum.Enum):
    """How the app authenticated; ``appidacr`` records it."""

    SECRET = "1"
    CERTIFICATE = "2"


class TokenFailure(enum.Enum):
    """Why a bearer token was refused."""

    MISSING = "missing"
    MALFORMED = "malformed"
    BAD_SIGNATURE = "bad signature"
    EXPIRED = "expired"
    NOT_YET_VALID = "not yet valid"
    WRONG_AUDIENCE = "wrong audience"
    WRONG_TENANT = "wrong tenant"


class TokenError(Exception):
    """A bearer token failed verification; ``failure`` says which check."""

    def __init__(self, failure: TokenFailure, detail: str = "") -> None:
        super().__init__(f"access token refused ({failure.value})" + (f": {detail}" if detail
                                                                       else ""))
        self.failure = failure
        self.detail = detail


@dataclass(frozen=True)
class Principal:
    """The application a verified token speaks for, in one tenant."""

    tenant_id: str
    client_id: str
    roles: frozenset[str]
    object_id: str = ""


@dataclass(frozen=True)
class IssuedToken:
    """An access token and its lifetime in seconds, as the token endpoint returns them."""

    access_token: str
    expires_in: int


class SigningKey:
    """An RSA key with a self-signed certificate, published in the JWKS like Entra's keys."""

    def __init__(self, private_key: rsa.RSAPrivateKey, certificate: x509.Certificate) -> None:
        self.private_key = private_key
        self.certificate = certificate
        self.kid = _b64url(certificate.fingerprint(hashes.SHA1()))

    @classmethod
    def generate(cls) -> SigningKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "accounts.emulator.local")])
        now = datetime.now(UTC)
        certificate = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1825))
            .sign(key, hashes.SHA256())
        )
        return cls(key, certificate)

    def jwk(self, issuer: str) -> dict[str, Any]:
        """The key as a JWKS entry (``kty``, ``use``, ``kid``, ``x5t``, ``n``, ``e``, ``x5c``)."""
        numbers = self.private_key.public_key().public_numbers()
        der = self.certificate.public_bytes(serialization.Encoding.DER)
        return {
            "kty": "RSA", "use": "sig", "kid": self.kid, "x5t": self.kid,
            "n": _b64url(_int_bytes(numbers.n)), "e": _b64url(_int_bytes(numbers.e)),
            "x5c": [base64.b64encode(der).decode()], "issuer": issuer,
        }


class TokenIssuer:
    """Issues and verifies access tokens with one signing key on the emulator clock."""

    def __init__(self, clock: Clock, *, key: SigningKey | None = None,
                 lifetime: int = DEFAULT_LIFETIME) -> None:
        self.clock = clock
        self.key = key or SigningKey.generate()
        self.lifetime = lifetime
        self._verified: dict[str, dict[str, Any]] = {}

    def issue(self, app: AppRegistration, kind: CredentialKind) -> IssuedToken:
        """A signed access token for Graph whose ``roles`` are the app's permissions."""
        now = int(self.clock.now())
        tid = app.tenant_id
        oid = app.service_principal_id or str(uuid.uuid5(uuid.NAMESPACE_URL,
                                                         f"sp:{tid}:{app.client_id}"))
        claims: dict[str, Any] = {
            "aud": GRAPH_RESOURCE, "iss": sts_issuer(tid),
            "iat": now - ISSUED_EARLIER, "nbf": now - ISSUED_EARLIER, "exp": now + self.lifetime,
            "app_displayname": app.display_name, "appid": app.client_id,
            "appidacr": kind.value, "idp": sts_issuer(tid), "idtyp": "app", "oid": oid,
            "roles": sorted(app.permissions), "sub": oid, "tid": tid,
            "uti": _b64url(uuid.uuid4().bytes), "ver": "1.0",
        }
        headers = {"typ": "JWT", "x5t": self.key.kid, "kid": self.key.kid}
        token = jwt.encode(claims, self.key.private_key, algorithm="RS256", headers=headers)
        return IssuedToken(token, self.lifetime)

    def verify(self, token: str | None, *, tenant_id: str | None = None) -> Principal:
        """The principal of a valid token; TokenError naming the failed check otherwise."""
        if not token:
            raise TokenError(TokenFailure.MISSING)
        claims = self._signed_claims(token)
        self._check_times(claims)
        if claims.get("aud") not in GRAPH_AUDIENCES:
            raise TokenError(TokenFailure.WRONG_AUDIENCE, f"aud is {claims.get('aud')!r}")
        tid = str(claims.get("tid", ""))
        if claims.get("iss") != sts_issuer(tid):
            raise TokenError(TokenFailure.BAD_SIGNATURE, "issuer does not match the tenant")
        if tenant_id is not None and tid != tenant_id.lower():
            raise TokenError(TokenFailure.WRONG_TENANT, f"issued for tenant {tid}")
        roles = claims.get("roles", [])
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise TokenError(TokenFailure.MALFORMED, "roles is not a list of names")
        return Principal(tid, str(claims.get("appid", "")), frozenset(roles),
                         str(claims.get("oid", "")))

    def _signed_claims(self, token: str) -> dict[str, Any]:
        # A client sends the same token on every call for an hour; verifying its RSA
        # signature and base64 once is enough. Times, audience and tenant are still
        # checked on every call by the caller.
        cached = self._verified.get(token)
        if cached is not None:
            return cached
        claims = self._verify_signature(token)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.clear()
        self._verified[token] = claims
        return claims

    def _verify_signature(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError as exc:
            raise TokenError(TokenFailure.MALFORMED, str(exc)) from exc
        if header.get("alg") != "RS256" or header.get("kid") != self.key.kid:
            raise TokenError(TokenFailure.BAD_SIGNATURE, "not signed by this emulator's key")
        try:
            return jwt.decode(
                token, self.key.private_key.public_key(), algorithms=["RS256"],
                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False,
                         "verify_aud": False, "verify_iss": False,
                         "require": ["exp", "nbf", "aud", "tid", "iss"]},
            )
        except jwt.InvalidSignatureError as exc:
            raise TokenError(TokenFailure.BAD_SIGNATURE, str(exc)) from exc
        except jwt.InvalidTokenError as exc:
            raise TokenError(TokenFailure.MALFORMED, str(exc)) from exc

    def _check_times(self, claims: dict[str, Any]) -> None:
        now = self.clock.now()
        if now >= float(claims["exp"]):
            raise TokenError(TokenFailure.EXPIRED, f"expired at {claims['exp']}")
        if now < float(claims["nbf"]):
            raise TokenError(TokenFailure.NOT_YET_VALID, f"valid from {claims['nbf']}")


def sts_issuer(tenant_id: str) -> str:
    """The ``iss`` of v1 tokens: ``https://sts.windows.net/{tid}/``."""
    return f"https://sts.windows.net/{tenant_id}/"


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _int_bytes(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")
