"""Time and peak memory of generating a tenant into a counting sink.

    python bench/bench_generator.py --users 100000 [--seed 1] [--tracemalloc]

Each measurement runs in a fresh interpreter, so peak RSS is the generator's own (plus
the interpreter and imports, reported separately as the baseline).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

_CHILD = """
import json, resource, sys, time, tracemalloc
from graph_emulator.generator import TenantSpec, generate_tenant

class CountingSink:
    objects = 0
    links = 0
    def add(self, kind, obj):
        self.objects += 1
    def link(self, relation, source_id, target_id):
        self.links += 1

users, seed, trace = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if trace:
    tracemalloc.start()
sink = CountingSink()
start = time.perf_counter()
summary = generate_tenant(sink, TenantSpec(users=users, seed=seed))
elapsed = time.perf_counter() - start
print(json.dumps({
    "seconds": elapsed, "objects": sink.objects, "links": sink.links,
    "groups": summary.counts["groups"], "group_memberships": summary.group_memberships,
    "baseline_rss_kib": baseline,
    "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    "traced_peak_bytes": tracemalloc.get_traced_memory()[1] if trace else None,
}))
"""


def measure(users: int, seed: int, trace: bool) -> dict[str, float]:
    """Run one generation in a fresh interpreter and return its figures."""
    completed = subprocess.run(
        [sys.executable, "-c", _CHILD, str(users), str(seed), "1" if trace else "0"],
        check=True, capture_output=True, text=True)
    result: dict[str, float] = json.loads(completed.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tracemalloc", action="store_true",
                        help="also report the traced Python heap peak (slower)")
    args = parser.parse_args()
    figures = measure(args.users, args.seed, trace=False)
    total = figures["objects"] + figures["links"]
    print(f"users:              {args.users:,}")
    print(f"groups:             {int(figures['groups']):,}")
    print(f"group memberships:  {int(figures['group_memberships']):,}")
    print(f"objects emitted:    {int(figures['objects']):,}")
    print(f"links emitted:      {int(figures['links']):,}")
    print(f"wall time:          {figures['seconds']:.2f} s")
    print(f"objects+links/s:    {total / figures['seconds']:,.0f}")
    print(f"objects/s:          {figures['objects'] / figures['seconds']:,.0f}")
    print(f"peak RSS:           {figures['peak_rss_kib'] / 1024:.1f} MiB "
          f"(interpreter and imports: {figures['baseline_rss_kib'] / 1024:.1f} MiB)")
    if args.tracemalloc:
        traced = measure(args.users, args.seed, trace=True)
        print(f"traced heap peak:   {float(traced['traced_peak_bytes']) / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
