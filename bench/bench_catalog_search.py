"""Search latency over a large catalog: p50/p95/max per kind of query.

Builds a catalog of ``--versions`` object versions (objects x snapshots, every object
changing in every snapshot, a few deleted and added each time) with realistic names,
UPNs, mails and appIds, then times ``--queries`` searches of each kind. Runs on SQLite,
and on PostgreSQL too when ``--postgres`` is given (it starts a throwaway server).

    .venv/bin/python bench/bench_catalog_search.py --versions 1000000
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.postgres import running_postgres

from entra_backup.catalog import Catalog, ObjectVersion, SnapshotInfo
from entra_backup.catalog.fields import version_hash

FIRST = ["Anna", "Björn", "Carlos", "Deepa", "Erik", "Fatima", "George", "Hana", "Ivan",
         "Julia", "Kenji", "Lars", "Maria", "Nils", "Olga", "Pedro", "Quinn", "Rosa", "Sven",
         "Tariq", "Ulla", "Victor", "Wei", "Xenia", "Yusuf", "Zoe"]
LAST = ["Andersson", "Berg", "Chen", "Dubois", "Eriksson", "Fischer", "García", "Hansen",
        "Ivanova", "Johansson", "Kowalski", "Larsen", "Müller", "Nakamura", "Olsen", "Patel",
        "Quist", "Rossi", "Svensson", "Tanaka", "Umarov", "Virtanen", "Wagner", "Xu", "Young"]
START = datetime(2025, 1, 1, tzinfo=UTC)
SNAPSHOTS = 10


def document(index: int, generation: int) -> tuple[str, dict[str, Any]]:
    rng = random.Random(index)
    first, last = rng.choice(FIRST), rng.choice(LAST)
    modified = (START + timedelta(days=generation * 7, minutes=index % 10000)).isoformat()
    if index % 10 == 8:
        return "groups", {"id": str(uuid.UUID(int=index)), "displayName": f"{last} Team {index}",
                          "mail": f"team{index}@contoso.com", "lastModifiedDateTime": modified}
    if index % 10 == 9:
        return "applications", {"id": str(uuid.UUID(int=index)),
                                "displayName": f"{first} App {index}",
                                "appId": str(uuid.UUID(int=index * 7919)),
                                "lastModifiedDateTime": modified}
    upn = f"{first}.{last}{index}@contoso.com".lower()
    return "users", {"id": str(uuid.UUID(int=index)), "displayName": f"{first} {last}",
                     "userPrincipalName": upn, "mail": upn, "jobTitle": f"Grade {generation}",
                     "lastModifiedDateTime": modified}


def snapshot_versions(objects: int, generation: int) -> Iterator[ObjectVersion]:
    churn = objects // 200
    for index in range(generation * churn, objects + generation * churn):
        type_, doc = document(index, generation)
        yield ObjectVersion(type_, doc["id"], version_hash(doc), doc)


def build(catalog: Catalog, versions: int) -> float:
    objects = max(10, versions // SNAPSHOTS)
    started = time.perf_counter()
    types = {"users": "ok", "groups": "ok", "applications": "ok"}
    for generation in range(SNAPSHOTS):
        info = SnapshotInfo(f"{generation:064x}", "contoso",
                            START + timedelta(days=7 * generation), types)
        catalog.record(info, snapshot_versions(objects, generation))
    return time.perf_counter() - started


def kinds(rng: random.Random, objects: int) -> dict[str, Callable[[Catalog], object]]:
    def prefix(c: Catalog) -> object:
        return c.search(rng.choice(FIRST)[:4], mode="prefix", limit=50)

    def substring(c: Catalog) -> object:
        return c.search(f"{rng.choice(LAST)[1:5]}{rng.randrange(10)}", limit=50)

    def exact_upn(c: Catalog) -> object:
        return c.search(f"{rng.randrange(objects)}@contoso", limit=50)

    def type_time(c: Catalog) -> object:
        day = START + timedelta(days=rng.randrange(60))
        return c.search("", type="groups", from_=day, to=day + timedelta(hours=6), limit=50)

    def deleted(c: Catalog) -> object:
        return c.search(rng.choice(LAST)[:3].lower(), deleted_only=True, limit=50)

    return {"prefix": prefix, "substring": substring, "upn-substring": exact_upn,
            "type+time": type_time, "deleted-only": deleted}


def measure(catalog: Catalog, queries: int, objects: int) -> None:
    rng = random.Random(42)
    for name, run in kinds(rng, objects).items():
        timings = []
        for _ in range(queries):
            started = time.perf_counter()
            run(catalog)
            timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        p95 = timings[int(len(timings) * 0.95) - 1]
        print(f"  {name:14s} p50 {statistics.median(timings):7.2f} ms   p95 {p95:7.2f} ms   "
              f"max {timings[-1]:7.2f} ms")


def run(label: str, url: str, versions: int, queries: int, *, built: bool = False) -> None:
    with Catalog.open(url) as catalog:
        if built:
            print(f"{label}: reusing the catalog built earlier at {url}")
        else:
            seconds = build(catalog, versions)
            print(f"{label}: {versions} versions recorded in {seconds:.1f} s "
                  f"({versions / seconds:,.0f}/s)")
        measure(catalog, queries, versions // SNAPSHOTS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--postgres", action="store_true", help="also run on PostgreSQL")
    parser.add_argument("--keep", type=Path, help="SQLite file to build once and reuse, so "
                        "query changes can be measured on the same catalog")
    args = parser.parse_args()
    if args.keep is not None:
        run("sqlite", f"sqlite:///{args.keep.resolve()}", args.versions, args.queries,
            built=args.keep.exists())
    else:
        with tempfile.TemporaryDirectory() as workdir:
            run("sqlite", f"sqlite:///{Path(workdir) / 'catalog.db'}", args.versions,
                args.queries)
    if args.postgres:
        with running_postgres() as server:
            run("postgresql", server.url(), args.versions, args.queries)


if __name__ == "__main__":
    main()
