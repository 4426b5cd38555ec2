"""A real emulator over HTTPS in a background thread, and authorised clients for it."""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msal
import requests

from graph_emulator.runtime import Options, Runtime

GRAPH_SCOPE = ["https://graph.microsoft.com/.default"]


def acquire_token(authority: str, client_id: str, secret: str, ca_bundle: str) -> dict[str, Any]:
    """A client-credentials token from the emulator's token endpoint, through MSAL."""
    # requests lets REQUESTS_CA_BUNDLE override MSAL's verify= option, so the CA is
    # pinned on a session that ignores the environment.
    session = requests.Session()
    session.trust_env = False
    session.verify = ca_bundle
    application = msal.ConfidentialClientApplication(
        client_id,
        client_credential=secret,
        authority=authority,
        instance_discovery=False,
        http_client=session,
    )
    result: dict[str, Any] = application.acquire_token_for_client(scopes=GRAPH_SCOPE)
    return result


@dataclass
class LiveEmulator:
    """Connection details of a running emulator, as its first printed line gives them."""

    runtime: Runtime
    graph_url: str
    authority: str
    tenant_id: str
    client_id: str
    client_secret: str
    ca_bundle: str
    control_url: str
    _token: str | None = field(default=None, repr=False)

    @classmethod
    def start(cls, state_dir: Path, **options: Any) -> LiveEmulator:
        runtime = Runtime(Options(state_dir=state_dir, **options))
        runtime.start()
        return cls(runtime=runtime, **runtime.connection_info())

    @classmethod
    @contextlib.contextmanager
    def running(cls, state_dir: Path, **options: Any) -> Iterator[LiveEmulator]:
        """:meth:`start`, stopped when the block ends (a module fixture's whole body)."""
        emulator = cls.start(state_dir, **options)
        try:
            yield emulator
        finally:
            emulator.stop()

    def stop(self) -> None:
        self.runtime.stop()

    def token(self) -> str:
        if self._token is None:
            result = acquire_token(self.authority, self.client_id, self.client_secret,
                                   self.ca_bundle)
            assert "access_token" in result, result
            self._token = str(result["access_token"])
        return self._token

    def verify(self) -> ssl.SSLContext:
        """A TLS context trusting only the emulator's CA."""
        return ssl.create_default_context(cafile=self.ca_bundle)

    def http(self, token: str | None = None) -> httpx.Client:
        """A client for Graph calls, authorised and trusting the emulator's CA."""
        return httpx.Client(
            base_url=self.graph_url + "/",
            verify=self.verify(),
            headers={"Authorization": f"Bearer {token or self.token()}"},
            timeout=30,
        )

    def control(self, method: str, path: str, body: Any = None) -> Any:
        """Call the control endpoint and return its JSON answer."""
        with httpx.Client(verify=self.verify(), timeout=30) as client:
            response = client.request(method, self.control_url + path, json=body)
        response.raise_for_status()
        return response.json()
