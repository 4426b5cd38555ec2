"""Certificate files in the forms administrators have them: PEM with a PKCS#8 or a
traditional OpenSSL key, encrypted or not, and PKCS#12 with or without a password. Keys
are made here with ``cryptography``; the emulator sign-in is in
tests/cli/test_certificate_credentials.py."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from entra_backup.domain.errors import CertificatePassphraseError
from entra_backup.graph.auth import CertificateCredential
from entra_backup.graph.errors import AuthenticationError

PASSPHRASE = b"a passphrase"
_KEY = ec.generate_private_key(ec.SECP256R1())
_NAME = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "certificate files")])
_NOW = dt.datetime.now(dt.UTC)
_CERT = (x509.CertificateBuilder().subject_name(_NAME).issuer_name(_NAME)
         .public_key(_KEY.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(_NOW - dt.timedelta(days=1))
         .not_valid_after(_NOW + dt.timedelta(days=1)).sign(_KEY, hashes.SHA256()))
_CERT_PEM = _CERT.public_bytes(serialization.Encoding.PEM)
_THUMBPRINT = _CERT.fingerprint(hashes.SHA1()).hex().upper()  # Graph's x5t


def _key_pem(fmt: serialization.PrivateFormat, passphrase: bytes | None) -> bytes:
    encryption = (serialization.NoEncryption() if passphrase is None
                  else serialization.BestAvailableEncryption(passphrase))
    return _KEY.private_bytes(serialization.Encoding.PEM, fmt, encryption)


@pytest.mark.parametrize("fmt", [serialization.PrivateFormat.PKCS8,
                                 serialization.PrivateFormat.TraditionalOpenSSL])
def test_an_encrypted_pem_key_opens_with_its_passphrase_only(
        fmt: serialization.PrivateFormat) -> None:
    pem = _key_pem(fmt, PASSPHRASE) + _CERT_PEM
    assert CertificateCredential.from_pem(pem, PASSPHRASE).thumbprint == _THUMBPRINT
    with pytest.raises(CertificatePassphraseError, match="--certificate-passphrase-env"):
        CertificateCredential.from_pem(pem, None, "c.pem")
    with pytest.raises(CertificatePassphraseError, match=r"c\.pem.*wrong passphrase"):
        CertificateCredential.from_pem(pem, b"wrong", "c.pem")


def test_a_plain_pem_ignores_a_configured_passphrase() -> None:
    pem = _CERT_PEM + _key_pem(serialization.PrivateFormat.PKCS8, None)
    assert CertificateCredential.from_pem(pem, PASSPHRASE).thumbprint == _THUMBPRINT


def test_a_pem_without_its_certificate_is_an_authentication_error() -> None:
    with pytest.raises(AuthenticationError, match=r"c\.pem cannot be used"):
        CertificateCredential.from_pem(_key_pem(serialization.PrivateFormat.PKCS8, None),
                                       None, "c.pem")


@pytest.mark.parametrize("suffix", [".pfx", ".p12", ".PFX"])
def test_pkcs12_files_are_read_by_their_suffix(tmp_path: Path, suffix: str) -> None:
    locked = pkcs12.serialize_key_and_certificates(
        b"x", _KEY, _CERT, None, serialization.BestAvailableEncryption(PASSPHRASE))
    path = tmp_path / f"backup{suffix}"
    path.write_bytes(locked)
    assert CertificateCredential.from_file(path, PASSPHRASE).thumbprint == _THUMBPRINT
    with pytest.raises(CertificatePassphraseError, match="--certificate-passphrase-env"):
        CertificateCredential.from_file(path, None)
    with pytest.raises(CertificatePassphraseError, match="wrong passphrase"):
        CertificateCredential.from_file(path, b"wrong")


def test_a_pkcs12_without_a_password_opens_with_or_without_one(tmp_path: Path) -> None:
    path = tmp_path / "open.pfx"
    path.write_bytes(pkcs12.serialize_key_and_certificates(
        b"x", _KEY, _CERT, None, serialization.NoEncryption()))
    assert CertificateCredential.from_file(path).thumbprint == _THUMBPRINT
    assert CertificateCredential.from_file(path, PASSPHRASE).thumbprint == _THUMBPRINT


def test_a_pkcs12_without_a_private_key_says_so(tmp_path: Path) -> None:
    path = tmp_path / "public.p12"
    path.write_bytes(pkcs12.serialize_key_and_certificates(
        b"x", None, _CERT, None, serialization.NoEncryption()))
    with pytest.raises(AuthenticationError, match="holds no private key"):
        CertificateCredential.from_file(path)
