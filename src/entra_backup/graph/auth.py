"""App-only access tokens from the Microsoft identity platform through MSAL.

One ``TokenProvider`` per tenant connection. It keeps the token MSAL issued and asks for a
new one ahead of expiry (``refresh_margin``), or at once after Graph refused a token
(``invalidate``), so a token expiring in the middle of a long job is renewed instead of
failing it. MSAL's HTTP calls are blocking; the async entry point runs them in a thread.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msal
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from entra_backup.graph.certificate_files import is_pkcs12, load_pem, load_pkcs12
from entra_backup.graph.clouds import Endpoints
from entra_backup.graph.errors import AuthenticationError, TransportError
from entra_backup.graph.tls import trust

_AADSTS = re.compile(r"AADSTS(\d+)")

# What an administrator should do for the AADSTS codes a client-credentials flow meets.
# Codes and meanings: https://learn.microsoft.com/entra/identity-platform/reference-error-codes
HINTS: dict[str, str] = {
    "7000215": "The client secret is wrong: use the secret's Value (not its Secret ID), or "
               "create a new client secret for the app registration.",
    "7000222": "The client secret has expired: create a new one for the app registration.",
    "7000218": "No credential was sent: configure a client secret or a certificate.",
    "700016": "No app with this client id exists in the tenant: check the client id and the "
              "tenant id, and that an administrator consented to the app in this tenant.",
    "90002": "The tenant was not found: check the tenant id or domain and the cloud.",
    "700027": "The certificate is not registered on the app: upload its public certificate "
              "to the app registration, or use the matching private key.",
    "50027": "The client assertion is malformed: check the certificate and private key PEM.",
    "700024": "The client assertion is outside its validity window: check the system clock.",
    "500011": "The Graph resource is unknown in this tenant: check that the Graph URL "
              "belongs to the same cloud as the authority.",
    "1002012": "The scope must end in /.default for app-only access.",
    "70011": "The scope is invalid: use the Graph resource with /.default.",
    "65001": "An administrator has not consented to the app's permissions in this tenant: "
             "open the admin-consent link.",
    "7000112": "The app is disabled in this tenant: re-enable its service principal.",
    "53003": "A Conditional Access policy blocked the app: exclude the backup app.",
}
_NETWORK_ERRORS = (httpx.TransportError, httpx.HTTPStatusError, OSError)
DEFAULT_HINT = "Check the tenant id, client id and credential of this tenant connection."


@dataclass(frozen=True)
class CertificateCredential:
    """A certificate credential as MSAL takes it (PEM private key, SHA-1 thumbprint), read
    from a PEM or PKCS#12 file (``certificate_files``)."""

    private_key: str = field(repr=False)
    thumbprint: str
    public_certificate: str

    @classmethod
    def from_pem(cls, pem: bytes, passphrase: bytes | None = None,
                 name: str = "given") -> CertificateCredential:
        """Read a PEM holding the private key and its certificate (in either order)."""
        return cls._from(*load_pem(pem, passphrase, name))

    @classmethod
    def from_pkcs12(cls, data: bytes, passphrase: bytes | None = None,
                    name: str = "given") -> CertificateCredential:
        """Read a PKCS#12 (``.pfx``/``.p12``) holding the private key and its certificate."""
        return cls._from(*load_pkcs12(data, passphrase, name))

    @classmethod
    def from_file(cls, path: Path, passphrase: bytes | None = None) -> CertificateCredential:
        """Read a PEM file, or a PKCS#12 one by its suffix; a missing file is a clear error."""
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise AuthenticationError(f"Cannot read the certificate file {path}: "
                                      f"{exc.strerror}.") from exc
        if is_pkcs12(path):
            return cls.from_pkcs12(data, passphrase, str(path))
        return cls.from_pem(data, passphrase, str(path))

    @classmethod
    def _from(cls, key: PrivateKeyTypes, certificate: x509.Certificate
              ) -> CertificateCredential:
        # MSAL takes the key as unencrypted PEM; it stays in this process's memory only.
        key_pem = key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
        der = certificate.public_bytes(serialization.Encoding.DER)
        cert_pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
        # Graph's thumbprint is SHA-1 over the DER certificate (x5t), not a security use.
        thumbprint = hashlib.sha1(der, usedforsecurity=False).hexdigest().upper()
        return cls(private_key=key_pem, thumbprint=thumbprint, public_certificate=cert_pem)

    def as_msal(self) -> dict[str, str]:
        """The ``client_credential`` mapping MSAL expects."""
        return {"private_key": self.private_key, "thumbprint": self.thumbprint,
                "public_certificate": self.public_certificate}


Credential = str | CertificateCredential


class _MsalHttpClient:
    """The HTTP client interface MSAL expects, over httpx.

    MSAL hands form values such as the signed client assertion over as bytes, which httpx
    would render as ``b'...'``; they are decoded here first.
    """

    def __init__(self, client: httpx.Client) -> None:
        self._client = client

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        """GET, as MSAL's discovery calls it."""
        return self._client.get(url, **kwargs)

    def post(self, url: str, data: Any = None, **kwargs: Any) -> httpx.Response:
        """POST a form, as MSAL's token requests call it."""
        if isinstance(data, dict):
            data = {key: value.decode() if isinstance(value, bytes) else value
                    for key, value in data.items()}
        return self._client.post(url, data=data, **kwargs)

    def close(self) -> None:
        """Close the pooled connections."""
        self._client.close()


@dataclass
class _Issued:
    access_token: str = field(repr=False)
    expires_at: float


class TokenProvider:
    """Client-credentials tokens for one app in one tenant, cached and renewed early."""

    def __init__(self, endpoints: Endpoints, client_id: str, credential: Credential, *,
                 ca_bundle: str | None = None, refresh_margin: float = 300.0,
                 timeout: float = 30.0, clock: Callable[[], float] = time.time) -> None:
        self._endpoints = endpoints
        self._client_id = client_id
        self._credential = credential
        self._refresh_margin = refresh_margin
        self._clock = clock
        self._lock = threading.Lock()
        # MSAL's default requests session lets REQUESTS_CA_BUNDLE override the CA bundle
        # it is given; an httpx client uses exactly the bundle configured here.
        self._http = _MsalHttpClient(httpx.Client(verify=trust(ca_bundle), timeout=timeout))
        self._app: msal.ConfidentialClientApplication | None = None
        self._issued: _Issued | None = None
        self.acquisitions = 0

    def token(self) -> str:
        """A valid access token: the cached one, or a new one when it is close to expiry."""
        with self._lock:
            issued = self._issued
            if issued is not None and issued.expires_at - self._refresh_margin > self._clock():
                return issued.access_token
            self._issued = self._acquire(force=issued is not None)
            return self._issued.access_token

    async def atoken(self) -> str:
        """``token()`` for async callers; the network part runs in a worker thread."""
        issued = self._issued
        if issued is not None and issued.expires_at - self._refresh_margin > self._clock():
            return issued.access_token
        return await asyncio.to_thread(self.token)

    def close(self) -> None:
        """Close the token service connection."""
        self._http.close()

    def invalidate(self) -> None:
        """Forget the current token (Graph refused it); the next call gets a new one."""
        with self._lock:
            if self._issued is not None:
                self._issued = _Issued(self._issued.access_token, expires_at=0.0)

    def _acquire(self, *, force: bool) -> _Issued:
        app = self._application()
        try:
            if force:
                # MSAL would hand back its cached token until it really expires.
                app.remove_tokens_for_client()
            result: dict[str, Any] = app.acquire_token_for_client(scopes=[self._endpoints.scope])
        except _NETWORK_ERRORS as exc:
            raise self._unreachable(exc) from exc
        if "access_token" not in result:
            raise _refusal(result)
        self.acquisitions += 1
        lifetime = float(result.get("expires_in", 3600))
        return _Issued(str(result["access_token"]), self._clock() + lifetime)

    def _application(self) -> msal.ConfidentialClientApplication:
        if self._app is not None:
            return self._app
        credential: Any = (self._credential.as_msal()
                           if isinstance(self._credential, CertificateCredential)
                           else self._credential)
        try:
            self._app = msal.ConfidentialClientApplication(
                self._client_id, client_credential=credential,
                authority=self._endpoints.authority,
                instance_discovery=self._endpoints.instance_discovery,
                http_client=self._http, token_cache=msal.TokenCache())
        except _NETWORK_ERRORS as exc:
            raise self._unreachable(exc) from exc
        except ValueError as exc:
            raise _discovery_failure(self._endpoints.authority, exc) from exc
        return self._app

    def _unreachable(self, exc: Exception) -> TransportError:
        text = " ".join(str(e) for e in _chain(exc))
        tls = "CERTIFICATE_VERIFY_FAILED" in text or "SSL" in text
        advice = (" The server's certificate is not trusted: pass the CA bundle that signed "
                  "it (--ca-bundle)." if tls else " Check the authority URL and the network.")
        return TransportError(f"Cannot reach the token service at "
                              f"{self._endpoints.authority}.{advice}")


def _refusal(result: dict[str, Any]) -> AuthenticationError:
    description = str(result.get("error_description") or result.get("error") or "unknown error")
    first_line = description.splitlines()[0] if description else description
    codes = result.get("error_codes") or []
    code = str(codes[0]) if codes else _aadsts_in(description)
    hint = HINTS.get(code or "", DEFAULT_HINT)
    return AuthenticationError(f"The identity platform refused the credentials: {first_line}",
                               aadsts=f"AADSTS{code}" if code else None, hint=hint)


def _discovery_failure(authority: str, exc: ValueError) -> AuthenticationError:
    """MSAL's authority check failed; the identity platform's answer is in the chain."""
    text = " ".join(str(e) for e in _chain(exc))
    code = _aadsts_in(text)
    hint = HINTS.get(code or "", "Check the tenant id and the authority URL (and its cloud).")
    return AuthenticationError(
        f"The authority {authority} was not accepted" + (f" (AADSTS{code})." if code else "."),
        aadsts=f"AADSTS{code}" if code else None, hint=hint)


def _aadsts_in(text: str) -> str | None:
    found = _AADSTS.search(text)
    return found.group(1) if found else None


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen
