"""Serving the emulator over HTTPS on a loopback socket, in the foreground or a thread."""

from __future__ import annotations

import ipaddress
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp


class ServerError(ValueError):
    """The emulator could not listen where it was asked to."""


def check_loopback(host: str) -> None:
    """Refuse anything but a loopback address: the emulator is never a network service."""
    if host == "localhost":
        return
    try:
        address = ipaddress.ip_address(host)
    except ValueError as exc:
        raise ServerError(f"--host must be a loopback address, not {host!r}") from exc
    if not address.is_loopback:
        raise ServerError(f"--host must be a loopback address (127.0.0.1, ::1), not {host}")


def bind(host: str, port: int) -> socket.socket:
    """A listening socket; port 0 picks a free port."""
    check_loopback(host)
    if not 0 <= port <= 65535:
        raise ServerError(f"--port must be between 0 and 65535, not {port}")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit TCP_NODELAY; without it a response written as several TLS
    # records waits on the client's delayed ACK (about 40 ms per small response).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ServerError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    sock.listen(512)
    sock.setblocking(False)
    return sock


@dataclass
class TlsFiles:
    """The server certificate and key, and the CA bundle clients trust."""

    certificate: Path
    key: Path
    ca_bundle: Path


class HttpsServer:
    """uvicorn serving one app over TLS on an already bound socket."""

    def __init__(self, app: ASGIApp, sock: socket.socket, tls: TlsFiles) -> None:
        self.sock = sock
        config = uvicorn.Config(
            app,
            ssl_certfile=str(tls.certificate),
            ssl_keyfile=str(tls.key),
            log_level="warning",
            lifespan="off",
            access_log=False,
            timeout_keep_alive=30,
            # Idle TLS keep-alive clients never send close_notify; do not wait on them.
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def serve_forever(self) -> None:
        """Serve in the foreground until SIGINT or SIGTERM."""
        self._server.run(sockets=[self.sock])

    def start(self) -> None:
        """Serve in a background thread (tests, benchmarks); returns once listening."""
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise ServerError("the emulator's HTTPS server failed to start")
            threading.Event().wait(0.01)

    def stop(self) -> None:
        """Stop serving; open connections are dropped rather than drained."""
        self._abort_connections()
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.sock.close()

    def _abort_connections(self) -> None:
        # A graceful TLS close waits for the client's close_notify, which an idle pooled
        # client never sends; shutdown would stall until the TLS shutdown timeout.
        if not self._server.servers:
            return
        loop = self._server.servers[0].get_loop()
        done = threading.Event()

        def abort() -> None:
            for connection in list(self._server.server_state.connections):
                transport = getattr(connection, "transport", None)
                if transport is not None:
                    transport.abort()
            done.set()

        loop.call_soon_threadsafe(abort)
        done.wait(timeout=5)
