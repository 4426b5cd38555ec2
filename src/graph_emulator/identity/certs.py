"""TLS for the emulator: a local CA and a server certificate for the loopback names.

MSAL only accepts https authorities, so the emulator serves HTTPS with a certificate from
a CA it generates itself. Clients trust that CA through the bundle file (``ca.pem``).
Existing files are reused while they are valid, so restarts are fast and a client that
already trusts the CA keeps working.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_FILE = "ca.pem"
SERVER_CERT_FILE = "server.pem"
SERVER_KEY_FILE = "server-key.pem"
DNS_NAMES = ("localhost",)
IP_ADDRESSES = ("127.0.0.1", "::1")
CA_LIFETIME = timedelta(days=3650)
SERVER_LIFETIME = timedelta(days=825)
RENEW_BEFORE = timedelta(days=7)


class CertificateError(Exception):
    """TLS material could not be created or read."""


@dataclass(frozen=True)
class TlsMaterial:
    """Paths of the CA bundle clients trust and of the server's certificate and key."""

    ca_bundle: Path
    certificate: Path
    key: Path


@dataclass(frozen=True)
class AppCertificate:
    """A self-signed certificate an app registration authenticates with, and its key."""

    private_key_pem: bytes
    certificate_pem: bytes


def ensure_tls_files(directory: Path, *, now: datetime | None = None) -> TlsMaterial:
    """Return valid TLS files in ``directory``, generating them only when needed."""
    moment = now or datetime.now(UTC)
    material = TlsMaterial(directory / CA_FILE, directory / SERVER_CERT_FILE,
                           directory / SERVER_KEY_FILE)
    if _still_valid(material, moment):
        return material
    try:
        directory.mkdir(parents=True, exist_ok=True)
        _generate(material, moment)
    except OSError as exc:
        raise CertificateError(f"cannot write TLS files in {directory}: {exc.strerror}") from exc
    return material


def server_ssl_context(material: TlsMaterial) -> ssl.SSLContext:
    """A server-side TLS context serving the emulator's certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(material.certificate), str(material.key))
    return context


def client_ssl_context(material: TlsMaterial) -> ssl.SSLContext:
    """A client-side TLS context that trusts only the emulator's CA."""
    return ssl.create_default_context(cafile=str(material.ca_bundle))


def new_app_certificate(
    common_name: str, *, lifetime: timedelta = timedelta(days=365), now: datetime | None = None
) -> AppCertificate:
    """A self-signed RSA certificate, as ``New-SelfSignedCertificate`` makes for an app."""
    moment = now or datetime.now(UTC)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    certificate = (
        _builder(name, name, key.public_key(), moment, lifetime)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return AppCertificate(_private_pem(key), certificate.public_bytes(serialization.Encoding.PEM))


def _still_valid(material: TlsMaterial, moment: datetime) -> bool:
    try:
        ca = x509.load_pem_x509_certificate(material.ca_bundle.read_bytes())
        server = x509.load_pem_x509_certificate(material.certificate.read_bytes())
        key = serialization.load_pem_private_key(material.key.read_bytes(), password=None)
    except (OSError, ValueError, TypeError):
        return False
    if not all(_fresh(cert, moment) for cert in (ca, server)):
        return False
    if key.public_key().public_bytes(*_SPKI) != server.public_key().public_bytes(*_SPKI):
        return False
    return _signed_by(server, ca) and _covers_loopback(server)


_SPKI = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _fresh(certificate: x509.Certificate, moment: datetime) -> bool:
    return (certificate.not_valid_before_utc <= moment
            and certificate.not_valid_after_utc - RENEW_BEFORE > moment)


def _signed_by(certificate: x509.Certificate, ca: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _covers_loopback(certificate: x509.Certificate) -> bool:
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    dns = set(names.get_values_for_type(x509.DNSName))
    ips = {str(ip) for ip in names.get_values_for_type(x509.IPAddress)}
    return dns >= set(DNS_NAMES) and ips >= set(IP_ADDRESSES)


def _generate(material: TlsMaterial, moment: datetime) -> None:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Entra Backup emulator"),
        x509.NameAttribute(NameOID.COMMON_NAME, "Entra Backup emulator local CA"),
    ])
    ca_cert = (
        _builder(ca_name, ca_name, ca_key.public_key(), moment, CA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = _server_certificate(server_key, ca_key, ca_cert, moment)
    pem = serialization.Encoding.PEM
    _write_atomically(material.key, _private_pem(server_key), private=True)
    _write_atomically(material.certificate, server_cert.public_bytes(pem))
    _write_atomically(material.ca_bundle, ca_cert.public_bytes(pem))


def _server_certificate(
    key: ec.EllipticCurvePrivateKey, ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate, moment: datetime,
) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    alt_names: list[x509.GeneralName] = [x509.DNSName(name) for name in DNS_NAMES]
    alt_names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in IP_ADDRESSES]
    return (
        _builder(subject, ca_cert.subject, key.public_key(), moment, SERVER_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey,
    moment: datetime, lifetime: timedelta,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(moment - timedelta(minutes=5))
        .not_valid_after(moment + lifetime)
    )


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
        encipher_only=False, decipher_only=False,
    )


def _private_pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _write_atomically(path: Path, data: bytes, *, private: bool = False) -> None:
    """Write through a temporary file so a reader never sees half a PEM file."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        if private:
            os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
