"""Requests per second the emulator serves for paged user reads, over HTTPS.

    python bench/bench_emulator_reads.py [--users 20000] [--clients 4] [--seconds 10]

The emulator runs in its own process (``entra-backup emulator serve``), as in the demo;
this process holds the clients, so the two share the machine's cores but not an
interpreter. Each client pages through ``/users`` following ``@odata.nextLink`` and starts
over at the end. Two page shapes are measured: ``$top=999`` with a ``$select`` (what a
backup sends) and the default page of 100 with Graph's default properties.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import ssl
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any

import httpx
import msal
import requests

SELECT = "id,displayName,userPrincipalName,mail,accountEnabled,department,jobTitle"
SHAPES = {
    "top=999 with $select": f"users?$top=999&$select={SELECT}",
    "default page (100)": "users",
}


@dataclass
class Result:
    requests: int
    users: int
    seconds: float


def start_emulator(users: int, state_dir: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "entra_backup.cli.main", "emulator", "serve", "--users",
         str(users), "--throttle", "off", "--state-dir", state_dir],
        stdout=subprocess.PIPE, text=True,
    )
    assert process.stdout is not None
    return process, json.loads(process.stdout.readline())


def token(info: dict[str, str]) -> str:
    session = requests.Session()
    session.trust_env = False
    session.verify = info["ca_bundle"]
    app = msal.ConfidentialClientApplication(
        info["client_id"], client_credential=info["client_secret"],
        authority=info["authority"], instance_discovery=False, http_client=session)
    result: dict[str, Any] = app.acquire_token_for_client(
        scopes=["https://graph.microsoft.com/.default"])
    return str(result["access_token"])


async def client_loop(client: httpx.AsyncClient, first: str, deadline: float,
                      result: Result) -> None:
    url = first
    while time.perf_counter() < deadline:
        response = await client.get(url)
        response.raise_for_status()
        body = response.json()
        result.requests += 1
        result.users += len(body["value"])
        url = body.get("@odata.nextLink", first)


async def measure(info: dict[str, str], bearer: str, first: str, clients: int,
                  seconds: float) -> Result:
    context = ssl.create_default_context(cafile=info["ca_bundle"])
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    result = Result(0, 0, seconds)
    async with httpx.AsyncClient(base_url=info["graph_url"] + "/", verify=context,
                                 limits=limits, timeout=60,
                                 headers={"Authorization": f"Bearer {bearer}"}) as client:
        await client.get(first)
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(*(client_loop(client, first, deadline, result)
                               for _ in range(clients)))
        result.seconds = time.perf_counter() - started
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as state_dir:
        started = time.perf_counter()
        process, info = start_emulator(args.users, state_dir)
        print(f"emulator with {args.users:,} users ready in "
              f"{time.perf_counter() - started:.1f} s")
        try:
            bearer = token(info)
            for name, first in SHAPES.items():
                result = asyncio.run(measure(info, bearer, first, args.clients, args.seconds))
                print(f"{name:>22}: {result.requests / result.seconds:8.1f} requests/s, "
                      f"{result.users / result.seconds:10,.0f} users/s "
                      f"({result.requests} requests in {result.seconds:.1f} s, "
                      f"{args.clients} clients)")
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
