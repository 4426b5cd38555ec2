"""Read a certificate credential's private key and certificate from a file.

Two formats: PEM (the key and its certificate in one file, in either order; the key may be
encrypted, PKCS#8 ``ENCRYPTED PRIVATE KEY`` or a traditional ``Proc-Type: 4,ENCRYPTED``
block) and PKCS#12 (``.pfx`` / ``.p12``, as Windows and Azure Key Vault export it). A key
that needs a passphrase which was not given, or is given a wrong one, is a
:class:`CertificatePassphraseError` (its own exit code), so a script can tell "set the
passphrase variable" from a certificate the tenant refuses.
"""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12

from entra_backup.domain.errors import CertificatePassphraseError
from entra_backup.graph.errors import AuthenticationError

PKCS12_SUFFIXES = (".pfx", ".p12")
_PEM_HINT = "Give one PEM file holding both the private key and its certificate."
_NEEDS_PASSPHRASE = ("its private key is encrypted: give the name of the environment "
                     "variable holding its passphrase with --certificate-passphrase-env")

KeyAndCertificate = tuple[PrivateKeyTypes, x509.Certificate]
# The two ways PEM marks an encrypted key: PKCS#8, and OpenSSL's traditional header.
_ENCRYPTED_MARKS = (b"-----BEGIN ENCRYPTED PRIVATE KEY-----", b"Proc-Type: 4,ENCRYPTED")


def is_pkcs12(path: Path) -> bool:
    """Whether the file is read as PKCS#12 (by its suffix, as the tools that make it name it)."""
    return path.suffix.lower() in PKCS12_SUFFIXES


def load_pem(pem: bytes, passphrase: bytes | None, name: str) -> KeyAndCertificate:
    """The key and certificate of a PEM file's bytes; ``name`` says which file in errors."""
    encrypted = any(mark in pem for mark in _ENCRYPTED_MARKS)
    if encrypted and passphrase is None:
        raise CertificatePassphraseError(f"the certificate file {name} cannot be used: "
                                         f"{_NEEDS_PASSPHRASE}")
    try:
        key = serialization.load_pem_private_key(
            pem, password=passphrase if encrypted else None)
        certificate = x509.load_pem_x509_certificate(pem)
    except (ValueError, TypeError) as exc:
        if encrypted:
            # OpenSSL cannot tell a wrong passphrase from a damaged encrypted key.
            raise CertificatePassphraseError(
                f"the certificate file {name} cannot be used: its private key does not "
                "open with the passphrase given (wrong passphrase, or a damaged key)") from exc
        raise AuthenticationError(f"The certificate file {name} cannot be used: {exc}.",
                                  hint=_PEM_HINT) from exc
    return key, certificate


def load_pkcs12(data: bytes, passphrase: bytes | None, name: str) -> KeyAndCertificate:
    """The key and certificate of a PKCS#12 file's bytes."""
    try:
        key, certificate, _chain = _open_pkcs12(data, passphrase)
    except ValueError as exc:
        # The library gives one error for a wrong passphrase and for bytes that are not
        # PKCS#12 at all; without a passphrase the likely cause is a missing one.
        reason = _NEEDS_PASSPHRASE if passphrase is None else (
            "it does not open with the passphrase given (wrong passphrase, or not a "
            "PKCS#12 file)")
        raise CertificatePassphraseError(
            f"the certificate file {name} cannot be used: {reason}") from exc
    if key is None or certificate is None:
        raise AuthenticationError(
            f"The certificate file {name} cannot be used: it holds no "
            f"{'private key' if key is None else 'certificate'}.",
            hint="Export the certificate with its private key.")
    return key, certificate


def _open_pkcs12(data: bytes, passphrase: bytes | None) -> tuple[
        PrivateKeyTypes | None, x509.Certificate | None, list[x509.Certificate]]:
    """Open with the passphrase; a file exported without one opens without it too (a
    passphrase variable left configured after the file was replaced is no error)."""
    try:
        return pkcs12.load_key_and_certificates(data, passphrase)
    except ValueError:
        if passphrase is None:
            raise
    return pkcs12.load_key_and_certificates(data, None)
