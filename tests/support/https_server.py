"""Serving an ASGI app over HTTPS on 127.0.0.1 in a background thread, for tests.

The server listens on a port the kernel picks (port 0) and uses the emulator's locally
generated certificate, so clients connect with the real TLS stack and the CA bundle.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

from graph_emulator.identity.certs import TlsMaterial


@dataclass(frozen=True)
class RunningServer:
    """Where a started server listens and which CA bundle its clients must trust."""

    base_url: str
    port: int
    ca_bundle: Path


@contextmanager
def serve_https(app: ASGIApp, tls: TlsMaterial, host: str = "127.0.0.1") -> Iterator[RunningServer]:
    """Run ``app`` over HTTPS until the block exits."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((host, 0))
    sock.listen(128)
    config = uvicorn.Config(app, ssl_certfile=str(tls.certificate), ssl_keyfile=str(tls.key),
                            log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the HTTPS test server did not start")
            threading.Event().wait(0.005)
        port = int(sock.getsockname()[1])
        yield RunningServer(f"https://{host}:{port}", port, tls.ca_bundle)
    finally:
        _abort_connections(server)
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _abort_connections(server: uvicorn.Server) -> None:
    """Drop open connections so shutdown does not wait on idle keep-alive clients.

    A graceful close of a TLS connection waits for the client's close_notify, which a test
    client holding an idle pooled connection never sends; shutdown would then stall until
    the TLS shutdown timeout.
    """
    if not server.servers:
        return
    loop = server.servers[0].get_loop()
    done = threading.Event()

    def abort() -> None:
        for connection in list(server.server_state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.abort()
        done.set()

    loop.call_soon_threadsafe(abort)
    done.wait(timeout=5)
