"""Real self-signed X.509 certificates for applications' ``keyCredentials``.

The output of a seed must be byte-identical across runs, and ``cryptography`` draws RSA
keys from the operating system's entropy. So the primes come from the seeded stream
(Miller-Rabin) and the key is assembled from them; PKCS#1 v1.5 signatures are
deterministic, which makes the whole certificate a function of the stream. Key generation
costs about a quarter of a second, so a few certificates are made once per process, the
same for every tenant, and shared by the applications.
"""

from __future__ import annotations

import base64
import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from graph_emulator.generator.ids import Rand

KEY_BITS = 2048
PUBLIC_EXPONENT = 65537
_SMALL_PRIMES_PRODUCT = math.prod(
    p for p in range(3, 5000) if all(p % d for d in range(2, int(p**0.5) + 1)))


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
    rand = Rand(0, "certificates")
    subjects = ("CN=automation", "CN=integration-service", "CN=reporting-daemon")
    return tuple(_certificate(rand, subjects[i % len(subjects)], i) for i in range(count))


def _certificate(rand: Rand, subject: str, position: int) -> Certificate:
    key = _rsa_key(rand)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject.removeprefix("CN="))])
    not_before = datetime(2025, 3 + position, 1, tzinfo=UTC)
    not_after = datetime(2027, 3 + position, 1, tzinfo=UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name)
        .public_key(key.public_key())
        .serial_number(rand.rng.getrandbits(120) | 1)
        .not_valid_before(not_before).not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    der = certificate.public_bytes(serialization.Encoding.DER)
    return Certificate(
        subject=subject,
        der_base64=base64.b64encode(der).decode("ascii"),
        thumbprint_base64=base64.b64encode(hashlib.sha1(der).digest()).decode("ascii"),
        not_before=not_before,
        not_after=not_after,
    )


def _rsa_key(rand: Rand) -> rsa.RSAPrivateKey:
    while True:
        p, q = _prime(rand, KEY_BITS // 2), _prime(rand, KEY_BITS // 2)
        phi = (p - 1) * (q - 1)
        if p != q and phi % PUBLIC_EXPONENT and (p * q).bit_length() == KEY_BITS:
            break
    d = pow(PUBLIC_EXPONENT, -1, phi)
    public = rsa.RSAPublicNumbers(PUBLIC_EXPONENT, p * q)
    private = rsa.RSAPrivateNumbers(p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q),
                                    rsa.rsa_crt_iqmp(p, q), public)
    return private.private_key()


def _prime(rand: Rand, bits: int) -> int:
    while True:
        candidate = rand.rng.getrandbits(bits) | (3 << (bits - 2)) | 1
        if math.gcd(candidate, _SMALL_PRIMES_PRODUCT) == 1 and _probably_prime(rand, candidate):
            return candidate


def _probably_prime(rand: Rand, n: int, rounds: int = 24) -> bool:
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    for _ in range(rounds):
        x = pow(rand.rng.randrange(2, n - 1), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True
