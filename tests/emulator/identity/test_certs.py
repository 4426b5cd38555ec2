"""The local CA and loopback server certificate: generated once, reused while valid."""

from __future__ import annotations

import socket
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509

from graph_emulator.identity import TlsMaterial, ensure_tls_files
from graph_emulator.identity.certs import client_ssl_context
from tests.emulator.identity.conftest import World


def snapshot(material: TlsMaterial) -> tuple[bytes, bytes, bytes]:
    return (material.ca_bundle.read_bytes(), material.certificate.read_bytes(),
            material.key.read_bytes())


def test_files_are_reused_while_valid(tmp_path: Path) -> None:
    first = ensure_tls_files(tmp_path)
    before = snapshot(first)
    assert snapshot(ensure_tls_files(tmp_path)) == before


def test_certificate_near_expiry_is_replaced(tmp_path: Path) -> None:
    before = snapshot(ensure_tls_files(tmp_path))
    far_future = datetime.now(UTC) + timedelta(days=900)
    assert snapshot(ensure_tls_files(tmp_path, now=far_future)) != before


def test_damaged_files_are_replaced(tmp_path: Path) -> None:
    material = ensure_tls_files(tmp_path)
    material.key.write_text("not a key")
    ensure_tls_files(tmp_path)
    server = x509.load_pem_x509_certificate(material.certificate.read_bytes())
    ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(material.certificate, material.key)
    assert server.not_valid_after_utc > datetime.now(UTC)


def test_private_key_is_readable_by_owner_only(tmp_path: Path) -> None:
    material = ensure_tls_files(tmp_path)
    assert material.key.stat().st_mode & 0o077 == 0


def test_server_certificate_names_every_loopback_address(tls: TlsMaterial) -> None:
    certificate = x509.load_pem_x509_certificate(tls.certificate.read_bytes())
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert {str(ip) for ip in names.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "::1"}


@pytest.mark.parametrize("hostname", ["127.0.0.1", "localhost"])
def test_clients_trusting_the_bundle_verify_the_server(world: World, tls: TlsMaterial,
                                                       hostname: str) -> None:
    context = client_ssl_context(tls)
    with socket.create_connection(("127.0.0.1", world.server.port)) as raw, \
            context.wrap_socket(raw, server_hostname=hostname) as wrapped:
        assert wrapped.version() in ("TLSv1.2", "TLSv1.3")


def test_clients_without_the_bundle_refuse_the_server(world: World) -> None:
    context = ssl.create_default_context()
    with socket.create_connection(("127.0.0.1", world.server.port)) as raw, \
            pytest.raises(ssl.SSLCertVerificationError):
        context.wrap_socket(raw, server_hostname="127.0.0.1")
