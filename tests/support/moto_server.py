"""Start a moto server (S3, KMS and the other AWS protocols) on loopback for tests.

It runs in a subprocess so that its warnings, threads and global state stay out of the
test process, and so that killing it is certain.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3

HOST = "127.0.0.1"
REGION = "eu-north-1"
ACCESS_KEY = "testing"
SECRET_KEY = "testing"


@dataclass(frozen=True)
class MotoServer:
    """A running server: its endpoint and the dummy credentials it accepts."""

    endpoint_url: str
    region: str = REGION
    access_key_id: str = ACCESS_KEY
    secret_access_key: str = SECRET_KEY

    def client(self, service: str) -> Any:
        """A boto3 client for ``service`` pointed at this server."""
        session: Any = boto3.session.Session(
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            region_name=self.region,
        )
        return session.client(service, endpoint_url=self.endpoint_url)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"{url}/moto-api/", timeout=1):
                return True
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.05)
    return False


@contextmanager
def running_moto_server(timeout: float = 20.0) -> Iterator[MotoServer]:
    """Run ``python -m moto.server`` on a free loopback port until the block ends."""
    for _attempt in range(3):
        port = _free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://{HOST}:{port}"
        try:
            if _wait_until_up(url, process, timeout):
                yield MotoServer(endpoint_url=url)
                return
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    raise RuntimeError("the moto server did not start (is moto[server] installed?)")
