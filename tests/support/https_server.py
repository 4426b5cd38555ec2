"""Serving an ASGI app over HTTPS on 127.0.0.1 in a background thread, for tests.

The server listens on a port the kernel picks (port 0) and uses the emulator's locally
generated certificate, so clients connect with the real TLS stack and the CA bundle. It
is the emulator's own server (``graph_emulator.server``), serving another app.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from starlette.types import ASGIApp

from graph_emulator.identity.certs import TlsMaterial
from graph_emulator.server import HttpsServer, TlsFiles, bind


@dataclass(frozen=True)
class RunningServer:
    """Where a started server listens and which CA bundle its clients must trust."""

    base_url: str
    port: int
    ca_bundle: Path


@contextmanager
def serve_https(app: ASGIApp, tls: TlsMaterial, host: str = "127.0.0.1") -> Iterator[RunningServer]:
    """Run ``app`` over HTTPS until the block exits."""
    server = HttpsServer(app, bind(host, 0), TlsFiles(tls.certificate, tls.key, tls.ca_bundle))
    server.start()
    try:
        yield RunningServer(f"https://{host}:{server.port}", server.port, tls.ca_bundle)
    finally:
        server.stop()
