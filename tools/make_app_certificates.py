"""Write the public certificates the tenant generator puts in applications' keyCredentials.

Generating RSA keys takes seconds in pure Python when it must be deterministic, and every
emulator start would pay for it; so the certificates are made once, here, and shipped as
data (public certificates only: the private keys are thrown away). Run from the project
root to replace them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

OUT = (Path(__file__).resolve().parents[1] / "src" / "graph_emulator" / "data"
       / "app-certificates.pem")
SUBJECTS = ("automation", "integration-service", "reporting-daemon")


def certificate(subject: str, position: int) -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    built = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime(2025, 3 + position, 1, tzinfo=UTC))
        .not_valid_after(datetime(2027, 3 + position, 1, tzinfo=UTC))
        .sign(key, hashes.SHA256())
    )
    return built.public_bytes(serialization.Encoding.PEM)


def main() -> None:
    OUT.write_bytes(b"".join(certificate(s, i) for i, s in enumerate(SUBJECTS)))
    print(f"wrote {len(SUBJECTS)} certificates to {OUT.name}")


if __name__ == "__main__":
    main()
