"""What the end-to-end benchmarks share: the processes they start (the emulator, a worker
speaking JSON lines), the emulator's control endpoint, and how they print.

Not a benchmark itself (``run_all.py`` runs ``bench_*.py`` only); the scripts import it
from their own folder, which Python puts first on the path when a script is run.
"""

from __future__ import annotations

import argparse
import json
import signal
import ssl
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from entra_backup.graph.budget import TenantSize
from entra_backup.graph.client import TenantConnection


def connection_of(info: dict[str, str], users: int) -> TenantConnection:
    return TenantConnection(info["tenant_id"], info["client_id"], info["client_secret"],
                            authority=info["authority"], graph_url=info["graph_url"],
                            ca_bundle=info["ca_bundle"], size=TenantSize.for_users(users))


class Child:
    """A process a benchmark starts, stopped by its own pid at the end."""

    def __init__(self, argv: list[str], *, stdin: bool, log: Path) -> None:
        self.argv = argv
        self.log = log.open("w")
        self.process = subprocess.Popen(
            argv, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=self.log, text=True)

    def line(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        raw = self.process.stdout.readline()
        if not raw:
            self.log.flush()
            tail = Path(self.log.name).read_text()[-3000:]
            raise RuntimeError(f"{' '.join(self.argv[:5])} ended early:\n{tail}")
        value: dict[str, Any] = json.loads(raw)
        return value

    def ask(self, **command: Any) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        answer = self.line()
        if "error" in answer:
            raise RuntimeError(f"the worker failed at {command['do']}: {answer['error']}")
        return answer

    def stop(self, sig: int = signal.SIGINT) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def control(info: dict[str, str], method: str, path: str, body: Any = None) -> Any:
    """A call to the emulator's control endpoint (``info`` is its contract line)."""
    context = ssl.create_default_context(cafile=info["ca_bundle"])
    response = httpx.request(method, info["control_url"] + path, json=body, verify=context,
                             timeout=300)
    response.raise_for_status()
    return response.json()


def say(args: argparse.Namespace, text: str) -> None:
    """A progress line: on stderr when the figures go to stdout as JSON."""
    print(text, file=sys.stderr if args.json else sys.stdout, flush=True)


def counters_text(counters: dict[str, float]) -> str:
    """A Graph client's counters, as the benchmarks print them."""
    return (f"{int(counters['requests']):,} requests, {int(counters['resource_units']):,} RU, "
            f"{int(counters['throttle_waits'])} throttle waits "
            f"({counters['throttle_wait_seconds']:.1f} s), paced "
            f"{counters['paced_seconds']:.1f} s, {int(counters['retries'])} retries")
