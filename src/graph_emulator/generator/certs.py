"""Real self-signed X.509 certificates for applications' ``keyCredentials``.

The output of a seed must be byte-identical across runs, and generating RSA keys
deterministically costs seconds per key in pure Python; so the certificates are made once
by ``tools/make_app_certificates.py`` and shipped as data (public certificates only),
the same for every tenant and shared by the applications.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib import resources

from cryptography import x509
from cryptography.hazmat.primitives import serialization


@dataclass(frozen=True)
class Certificate:
    """A certificate as ``keyCredentials`` describes it."""

    subject: str
    der_base64: str
    thumbprint_base64: str
    """SHA-1 thumbprint, base64: what Graph returns as ``customKeyIdentifier``."""
    not_before: datetime
    not_after: datetime


@lru_cache(maxsize=1)
def certificates(count: int = 2) -> tuple[Certificate, ...]:
    """``count`` certificates, always the same ones."""
    pem = resources.files("graph_emulator.data").joinpath("app-certificates.pem").read_bytes()
    loaded = x509.load_pem_x509_certificates(pem)
    return tuple(_describe(loaded[i % len(loaded)]) for i in range(count))


def _describe(certificate: x509.Certificate) -> Certificate:
    der = certificate.public_bytes(serialization.Encoding.DER)
    return Certificate(
        subject=certificate.subject.rfc4514_string(),
        der_base64=base64.b64encode(der).decode("ascii"),
        thumbprint_base64=base64.b64encode(hashlib.sha1(der).digest()).decode("ascii"),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
    )
