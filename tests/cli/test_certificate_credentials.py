"""Certificate credentials with a passphrase: an encrypted PEM or a PKCS#12 file, the
passphrase read from an environment variable whose name (never the value) is stored; a
missing or wrong passphrase is one line and exit 42; secret files others can read are
named in a warning.

Keys and certificates are made here with ``cryptography`` and registered with the HTTPS
emulator, which checks the signed client assertion as the identity platform does.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from entra_backup.config import PASSPHRASE_VARIABLE
from entra_backup.domain.errors import CertificatePassphraseError
from entra_backup.domain.object_types.registry import TYPES
from tests.cli.conftest_workspace import (
    PASSPHRASE,
    WARNING,
    Cli,
    assert_one_line_error,
    weak_passphrase_keys,
)
from tests.support.live_emulator import LiveEmulator

KEY_PASSPHRASE = "pfx passphrase 4 tests"
VARIABLE = "CONTOSO_CERT_PASSPHRASE"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveEmulator]:
    with LiveEmulator.running(tmp_path_factory.mktemp("cert-emulator"), users=3,
                              seed=5, throttle="off") as emulator:
        yield emulator


@pytest.fixture(scope="module", autouse=True)
def _weak_keys() -> Iterator[None]:
    with weak_passphrase_keys():
        yield


@dataclass(frozen=True)
class Files:
    client_id: str
    pem: Path
    """Encrypted PKCS#8 key and certificate."""
    pfx: Path
    """PKCS#12 with the same key and certificate."""


def _certificate() -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "entra-backup passphrase test")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30)).sign(key, hashes.SHA256()))
    return key, cert


def _private(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    path.chmod(0o600)
    return path


@pytest.fixture(scope="module")
def files(live: LiveEmulator, tmp_path_factory: pytest.TempPathFactory) -> Files:
    key, cert = _certificate()
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    app = live.control("POST", "/apps", {"tenant_id": live.tenant_id,
                                         "permissions": sorted({t.read_permission
                                                                for t in TYPES}),
                                         "certificate_pem": cert_pem.decode()})
    folder = tmp_path_factory.mktemp("certs")
    locked = serialization.BestAvailableEncryption(KEY_PASSPHRASE.encode())
    key_pem = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8, locked)
    pfx = pkcs12.serialize_key_and_certificates(b"backup", key, cert, None, locked)
    return Files(app["client_id"], _private(folder / "backup.pem", key_pem + cert_pem),
                 _private(folder / "backup.pfx", pfx))


@pytest.fixture
def cli(live: LiveEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    cli = Cli.for_home(tmp_path / "home", {VARIABLE: KEY_PASSPHRASE}, capsys)
    assert cli.run("init").code == 0
    return cli


def _add(cli: Cli, live: LiveEmulator, files: Files, certificate: Path,
         *extra: str) -> None:
    added = cli.run("tenant", "add", "contoso", "--tenant-id", live.tenant_id,
                    "--client-id", files.client_id, "--certificate", str(certificate),
                    "--authority", live.authority, "--graph-url", live.graph_url,
                    "--ca-bundle", live.ca_bundle, *extra)
    assert added.code == 0, str(added)


@pytest.mark.parametrize("kind", ["pem", "pfx"])
def test_an_encrypted_certificate_signs_in_with_its_passphrase_from_the_environment(
        cli: Cli, live: LiveEmulator, files: Files, kind: str) -> None:
    certificate = files.pem if kind == "pem" else files.pfx
    _add(cli, live, files, certificate, "--certificate-passphrase-env", VARIABLE)
    stored = (cli.home / "tenants.json").read_text()
    assert json.loads(stored)["tenants"]["contoso"]["certificate_passphrase_env"] == VARIABLE
    assert KEY_PASSPHRASE not in stored
    checked = cli.json("tenant", "check", "contoso")
    assert "User.Read.All" in checked["roles"]


@pytest.mark.parametrize("kind", ["pem", "pfx"])
def test_a_missing_or_wrong_passphrase_is_one_line_and_exit_42(
        cli: Cli, live: LiveEmulator, files: Files, kind: str) -> None:
    assert CertificatePassphraseError.exit_code == 42
    certificate = files.pem if kind == "pem" else files.pfx
    _add(cli, live, files, certificate, "--certificate-passphrase-env", VARIABLE)
    unset = cli.with_env(**{VARIABLE: None}).run("tenant", "check", "contoso")
    assert_one_line_error(unset, 42, contains=(VARIABLE, "not set"))
    wrong = cli.with_env(**{VARIABLE: "not the passphrase"}).run("tenant", "check", "contoso")
    line = assert_one_line_error(wrong, 42, contains=(str(certificate), "passphrase"))
    assert "not the passphrase" not in line


def test_an_encrypted_key_without_a_passphrase_variable_says_what_to_add(
        cli: Cli, live: LiveEmulator, files: Files) -> None:
    _add(cli, live, files, files.pem)
    result = cli.run("tenant", "check", "contoso")
    assert_one_line_error(result, 42, contains=("--certificate-passphrase-env",))
    edited = cli.with_env(**{VARIABLE: None}).run(
        "tenant", "edit", "contoso", "--certificate-passphrase-env", VARIABLE)
    assert edited.code == 0, str(edited)
    assert edited.err_lines == [f"{WARNING}the environment variable {VARIABLE} is not set "
                                "now; set it to the certificate's passphrase before backing up"]
    assert cli.json("tenant", "check", "contoso")["tenant"] == "contoso"


def test_a_passphrase_variable_needs_a_certificate(cli: Cli, live: LiveEmulator) -> None:
    result = cli.run("tenant", "add", "contoso", "--tenant-id", live.tenant_id,
                     "--client-id", live.client_id, "--client-secret-env", "SECRET",
                     "--certificate-passphrase-env", VARIABLE)
    assert_one_line_error(result, 2, contains=("--certificate-passphrase-env",))


def test_a_certificate_others_can_read_is_named_once(
        cli: Cli, live: LiveEmulator, files: Files, tmp_path: Path) -> None:
    shared = tmp_path / "shared.pfx"
    shared.write_bytes(files.pfx.read_bytes())
    shared.chmod(0o644)
    warning = (f"{WARNING}the certificate file (with its private key) {shared} can be read "
               f"by other users (mode 0644); run: chmod 600 {shared}")
    added = cli.run("tenant", "add", "contoso", "--tenant-id", live.tenant_id,
                    "--client-id", files.client_id, "--certificate", str(shared),
                    "--certificate-passphrase-env", VARIABLE, "--authority", live.authority,
                    "--graph-url", live.graph_url, "--ca-bundle", live.ca_bundle)
    assert added.code == 0 and added.err_lines == [warning], str(added)
    result = cli.run("tenant", "check", "contoso", "--json")
    assert result.code == 0, str(result)
    assert result.err_lines == [warning]
    shared.chmod(0o600)
    assert cli.run("tenant", "check", "contoso", "--json").err == ""


def test_a_passphrase_file_others_can_read_is_named(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secret = tmp_path / "passphrase.txt"
    secret.write_text(PASSPHRASE + "\n", encoding="utf-8")
    secret.chmod(0o640)
    cli = Cli.for_home(tmp_path / "home", capsys=capsys).with_env(
        **{PASSPHRASE_VARIABLE: None})
    created = cli.run("--passphrase-file", str(secret), "init")
    assert created.code == 0, str(created)
    assert [line for line in created.err_lines if "passphrase file" in line] == [
        f"{WARNING}the passphrase file {secret} can be read by other users (mode 0640); "
        f"run: chmod 600 {secret}"]
    secret.chmod(0o600)
    listed = cli.run("--passphrase-file", str(secret), "reindex", "--json")
    assert listed.code == 0 and listed.err == "", str(listed)


def test_a_repository_key_file_others_can_read_is_named(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key_file = tmp_path / "keys" / "repository.key"
    key_file.parent.mkdir()
    cli = Cli.for_home(tmp_path / "home", capsys=capsys)
    created = cli.run("init", "--key-provider", "keyfile", "--key-file", str(key_file))
    assert created.code == 0 and created.err == "", str(created)
    assert cli.run("reindex", "--json").err == ""
    key_file.chmod(0o604)
    listed = cli.run("reindex", "--json")
    assert listed.code == 0, str(listed)
    assert listed.err_lines == [f"{WARNING}the repository key file {key_file} can be read "
                                f"by other users (mode 0604); run: chmod 600 {key_file}"]
