"""Start-up of the command line: ``--help`` and read commands, whole processes.

    python bench/bench_startup.py [--runs 5] [--users 200]

Starts the emulator, initialises a home with the default (production) key-derivation
parameters, backs the tenant up once, then runs each command ``--runs`` times after one
warm-up and prints the median, minimum and maximum wall time of the whole process: what a
person waits for. Goals: ``--help`` under 0.3 s, read commands under 0.5 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _bench_support import Child

GOALS = {"help": 0.3, "read": 0.5}
TENANT = "bench"


def timed(argv: list[str], env: dict[str, str], runs: int) -> list[float]:
    subprocess.run(argv, env=env, check=True, capture_output=True)  # warm-up, not counted
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return times


def prepared_home(root: Path, info: dict[str, str], env: dict[str, str], cli: list[str]) -> None:
    env["BENCH_SECRET"] = info["client_secret"]
    steps = [["init"],
             ["tenant", "add", TENANT, "--tenant-id", info["tenant_id"], "--client-id",
              info["client_id"], "--client-secret-env", "BENCH_SECRET", "--authority",
              info["authority"], "--graph-url", info["graph_url"], "--ca-bundle",
              info["ca_bundle"]],
             ["backup", TENANT]]
    for step in steps:
        subprocess.run([*cli, "--home", str(root / "home"), *step], env=env, check=True,
                       capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--users", type=int, default=200)
    args = parser.parse_args()
    cli = [str(Path(sys.executable).with_name("entra-backup"))]
    env = {**os.environ, "ENTRA_BACKUP_PASSPHRASE": "a long bench passphrase, not weak"}
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as temp:
        root = Path(temp)
        emulator = Child([*cli, "emulator", "serve", "--users", str(args.users)],
                         stdin=False, log=root / "emulator.log")
        try:
            prepared_home(root, emulator.line(), env, cli)
            home = ["--home", str(root / "home")]
            commands = {
                "--help": ("help", [*cli, "--help"]),
                "snapshots": ("read", [*cli, *home, "snapshots", TENANT]),
                "ls users": ("read", [*cli, *home, "ls", TENANT, "latest", "--type", "users"]),
                "search": ("read", [*cli, *home, "search", TENANT, "a"]),
            }
            print(f"{'command':<12} {'median s':>9} {'min s':>7} {'max s':>7} {'goal s':>7}")
            for name, (kind, argv) in commands.items():
                times = timed(argv, env, args.runs)
                print(f"{name:<12} {statistics.median(times):9.3f} {min(times):7.3f} "
                      f"{max(times):7.3f} {GOALS[kind]:7.1f}")
        finally:
            emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
