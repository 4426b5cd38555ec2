"""Client assertions: the signed JWT an app sends instead of a secret (certificate auth).

The assertion must be signed by a certificate registered on the app (named by its ``x5t``
or ``x5t#S256`` header), be issued by and about the app (``iss`` == ``sub`` == client id),
be addressed to this token endpoint, carry a ``jti`` and not be expired.
"""

from __future__ import annotations

import base64
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

import jwt

from graph_emulator.identity import sts_errors
from graph_emulator.identity.credentials import CertificateCredential
from graph_emulator.identity.registry import AppRegistration

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALGORITHMS = ("RS256", "PS256")
NBF_SKEW = 300


def verify_client_assertion(
    assertion: str, app: AppRegistration, *, audiences: Collection[str], now: float
) -> None:
    """Return if the assertion authenticates ``app``; raise StsError otherwise."""
    header = _header(assertion)
    credential, thumbprint = _credential(header, app)
    not_before, not_after = credential.not_valid_between()
    if not not_before <= now < not_after:
        raise sts_errors.StsError(
            401, "invalid_client", 700027,
            f"Client assertion failed signature validation. [Reason - The key used is expired., "
            f"Thumbprint of key used by client: '{thumbprint}']")
    claims = _claims(assertion, header, credential, thumbprint)
    if claims["iss"] != app.client_id or claims["sub"] != app.client_id:
        raise sts_errors.assertion_wrong_client()
    if claims["aud"] not in audiences:
        raise sts_errors.assertion_wrong_audience()
    _check_times(claims, now)


def _header(assertion: str) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(assertion)
    except jwt.DecodeError as exc:
        raise sts_errors.assertion_malformed("The client assertion is not a JWT.") from exc
    if header.get("alg") not in ALGORITHMS:
        raise sts_errors.assertion_malformed(f"Unsupported signing algorithm {header.get('alg')}.")
    return header


def _credential(
    header: dict[str, Any], app: AppRegistration
) -> tuple[CertificateCredential, str]:
    x5t, x5t_s256 = header.get("x5t"), header.get("x5t#S256")
    if not isinstance(x5t, str | None) or not isinstance(x5t_s256, str | None):
        raise sts_errors.assertion_malformed("Certificate thumbprint headers must be strings.")
    if not x5t and not x5t_s256:
        raise sts_errors.assertion_malformed("No certificate thumbprint specified in token header.")
    sha1_hex, sha256_hex = _thumbprint_hex(x5t), _thumbprint_hex(x5t_s256)
    thumbprint = sha256_hex or sha1_hex or ""
    credential = app.certificate_by_thumbprint(sha1_hex=sha1_hex, sha256_hex=sha256_hex)
    if credential is None:
        raise sts_errors.assertion_key_not_found(thumbprint, app.client_id)
    return credential, thumbprint


def _claims(
    assertion: str, header: dict[str, Any], credential: CertificateCredential, thumbprint: str
) -> dict[str, Any]:
    try:
        return jwt.decode(
            assertion, credential.public_pem(), algorithms=[str(header["alg"])],
            options={"verify_exp": False, "verify_nbf": False, "verify_iat": False,
                     "verify_aud": False, "verify_iss": False,
                     "require": ["aud", "iss", "sub", "exp", "jti"]},
        )
    except jwt.InvalidSignatureError as exc:
        raise sts_errors.assertion_bad_signature(thumbprint) from exc
    except jwt.MissingRequiredClaimError as exc:
        raise sts_errors.assertion_malformed(
            f"The client assertion has no '{exc.claim}' claim.") from exc
    except jwt.InvalidTokenError as exc:
        raise sts_errors.assertion_malformed(str(exc)) from exc


def _check_times(claims: dict[str, Any], now: float) -> None:
    try:
        expires = float(claims["exp"])
        valid_from = float(claims.get("nbf", 0))
    except (TypeError, ValueError) as exc:
        raise sts_errors.assertion_malformed("exp and nbf must be numbers.") from exc
    if now >= expires or now + NBF_SKEW < valid_from:
        raise sts_errors.assertion_out_of_time(_iso(now), _iso(valid_from), _iso(expires))


def _thumbprint_hex(encoded: str | None) -> str | None:
    """A base64url thumbprint header as hex; clients send it with or without padding."""
    if not encoded:
        return None
    bare = encoded.rstrip("=")
    try:
        return base64.urlsafe_b64decode(bare + "=" * (-len(bare) % 4)).hex().upper()
    except ValueError:
        return encoded.upper()


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")
