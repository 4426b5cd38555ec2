"""Secrets never appear in a repr: a traceback, a log line or a debugger shows the rest."""

from __future__ import annotations

import os

from entra_backup.graph.auth import CertificateCredential
from entra_backup.graph.client import TenantConnection
from entra_backup.store.crypto import MASTER_KEY_SIZE, RepositoryKeys

SECRET = "s3cr3t-Client~Value-0123456789"


def test_a_tenant_connection_hides_its_credential() -> None:
    connection = TenantConnection("contoso.onmicrosoft.com", "client-id", SECRET)
    assert SECRET not in repr(connection)
    assert "client-id" in repr(connection)


def test_a_certificate_credential_hides_its_private_key() -> None:
    credential = CertificateCredential("-----BEGIN PRIVATE KEY-----" + SECRET, "AB12",
                                       "-----BEGIN CERTIFICATE-----")
    assert SECRET not in repr(credential)
    assert "AB12" in repr(credential)


def test_repository_keys_hide_every_derived_key() -> None:
    keys = RepositoryKeys.derive(os.urandom(MASTER_KEY_SIZE), b"repo-id-bytes-16")
    text = repr(keys)
    for secret in (keys.id_key, keys.data_root, keys.config_mac_key):
        assert repr(secret) not in text and secret.hex() not in text
