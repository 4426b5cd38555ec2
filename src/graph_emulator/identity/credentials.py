"""App credentials: client secrets (kept only as salted hashes) and public certificates."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string
import uuid
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes

SECRET_ALPHABET = string.ascii_letters + string.digits + "_-.~"
HASH_ITERATIONS = 20_000


class CredentialError(Exception):
    """A credential given to the registry is unusable (for example, not a certificate)."""


def new_secret_value() -> str:
    """A client secret shaped like Entra's: a 3-character hint, ``8Q~``, 34 random characters."""
    body = "".join(secrets.choice(SECRET_ALPHABET) for _ in range(34))
    hint = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(3))
    return f"{hint}8Q~{body}"


@dataclass
class SecretCredential:
    """A password credential: its id, hint, expiry and a salted PBKDF2 hash of the value."""

    key_id: str
    hint: str
    salt: str
    digest: str
    end_time: float | None = None

    @classmethod
    def create(cls, value: str, *, end_time: float | None = None) -> SecretCredential:
        salt = secrets.token_bytes(16)
        return cls(str(uuid.uuid4()), value[:3], _b64(salt), _b64(_hash(value, salt)), end_time)

    def matches(self, value: str) -> bool:
        """True when ``value`` is this secret (constant-time comparison)."""
        expected = base64.b64decode(self.digest)
        return hmac.compare_digest(_hash(value, base64.b64decode(self.salt)), expected)

    def expired(self, now: float) -> bool:
        return self.end_time is not None and now >= self.end_time

    def to_dict(self) -> dict[str, Any]:
        return {"keyId": self.key_id, "hint": self.hint, "salt": self.salt,
                "digest": self.digest, "endTime": self.end_time}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SecretCredential:
        return cls(data["keyId"], data["hint"], data["salt"], data["digest"], data.get("endTime"))


@dataclass
class CertificateCredential:
    """A key credential: a public certificate and the thumbprints clients name it by."""

    key_id: str
    certificate_pem: str
    sha1_hex: str
    sha256_hex: str

    @classmethod
    def create(cls, certificate_pem: str | bytes) -> CertificateCredential:
        pem = certificate_pem.encode() if isinstance(certificate_pem, str) else certificate_pem
        try:
            certificate = x509.load_pem_x509_certificate(pem)
        except ValueError as exc:
            raise CredentialError("the certificate is not a PEM X.509 certificate") from exc
        return cls(str(uuid.uuid4()), pem.decode(),
                   certificate.fingerprint(hashes.SHA1()).hex().upper(),
                   certificate.fingerprint(hashes.SHA256()).hex().upper())

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.certificate_pem.encode())

    @property
    def public_key(self) -> CertificatePublicKeyTypes:
        return self.certificate.public_key()

    @property
    def x5t(self) -> str:
        """The SHA-1 thumbprint, base64url, as the ``x5t`` JWT header carries it."""
        return _b64url(bytes.fromhex(self.sha1_hex))

    @property
    def x5t_s256(self) -> str:
        """The SHA-256 thumbprint, base64url, as the ``x5t#S256`` JWT header carries it."""
        return _b64url(bytes.fromhex(self.sha256_hex))

    def not_valid_between(self) -> tuple[float, float]:
        certificate = self.certificate
        return (certificate.not_valid_before_utc.timestamp(),
                certificate.not_valid_after_utc.timestamp())

    def public_pem(self) -> str:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    def to_dict(self) -> dict[str, Any]:
        return {"keyId": self.key_id, "certificate": self.certificate_pem}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CertificateCredential:
        loaded = cls.create(data["certificate"])
        loaded.key_id = data["keyId"]
        return loaded


def _hash(value: str, salt: bytes) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", value.encode(), salt, HASH_ITERATIONS)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
