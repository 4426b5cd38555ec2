"""Run every benchmark in ``bench/`` at its default size, one after the other.

    python bench/run_all.py [--quick]

``--quick`` passes smaller sizes, for checking that the benchmarks still run. Each
benchmark prints its own figures; this runner only adds a header per benchmark.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUICK_ARGUMENTS = {
    "bench_backup.py": ["--users", "2000", "--naive-groups", "100"],
    "bench_generator.py": ["--users", "5000"],
    "bench_emulator_reads.py": ["--users", "2000", "--seconds", "2"],
    "bench_repository.py": ["--objects", "20000"],
    "bench_catalog_search.py": ["--versions", "20000"],
    "bench_restore.py": ["--users", "500", "--groups", "10"],
    "bench_startup.py": ["--runs", "2", "--users", "50"],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, to check they run")
    args = parser.parse_args()
    failures = 0
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"\n=== {script.name}", flush=True)
        extra = QUICK_ARGUMENTS.get(script.name, []) if args.quick else []
        result = subprocess.run([sys.executable, str(script), *extra], check=False)
        failures += result.returncode != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
