"""Backup of a whole tenant against the emulator: time, requests, memory, and two baselines.

    python bench/bench_backup.py [--users 100000] [--seed 1] [--latency-ms 50]
                                 [--throttle real|off] [--naive-groups 500] [--json]

Three processes: the emulator (``entra-backup emulator serve``, 50 ms per Graph answer and
the documented throttling by default), a backup worker that runs every ``run_backup`` of
this benchmark one after the other (so its ``ru_maxrss`` is the engine's peak, not the
emulator's or this orchestrator's), and this process, which steers both, runs the naive
baseline and makes the changes. The worker opens one local-disk repository in a temporary
folder (passphrase key provider, argon2id at its default cost, derived once per repository)
with a SQLite catalog, and builds a fresh ``GraphClient`` per backup, so every figure
below is one backup's own.

Measured, in one run:

1. **Full backup** of every type: wall time, the client's counters (``requests``,
   ``resource_units``, ``throttle_waits``, ``throttle_wait_seconds``, ``paced_seconds``),
   objects and bytes stored.
2. **Minimum requests** the documented API needs for the same data, and the ratio
   measured / minimum (goal <= 1.1). The model, per type of the engine's type table:

   * a type with delta is read by one delta round; a round-1 page of the emulator holds at
     most 200 objects and at most 1,000 ``<nav>@delta`` references (a group's members are
     split across pages; docs/emulator-delta.md), so the type needs
     ``max(ceil(objects / 200), ceil(references / 1000), 1)`` pages, where ``references``
     counts the edges of every relationship the type captures as a delta annotation
     (members, owners, manager, registered owners and users), counted in the snapshot the
     full backup wrote;
   * a type without delta is paged: ``max(ceil(objects / page), 1)`` requests, with
     ``page`` 999 for the directory collections that take ``$top=999`` and Graph's default
     page of 100 for the role, settings and Conditional Access collections (all small); a
     singleton is 1 request;
   * the per-object reads the type table requires, one inner request per object and
     relationship (service principals: ``appRoleAssignedTo`` and ``appRoleAssignments``;
     administrative units: ``scopedRoleMembers``; applications: ``keyCredentials`` through
     ``$select``), sent in ``$batch`` requests of 20, so ``ceil(inner / 20)`` HTTP requests
     per type, plus one request per further page of a per-object list longer than 999.

   ``client.counters.requests`` counts HTTP requests (a batch is one, a retry is one more),
   and so does the model. The token request is not a Graph request in either.
3. **A naive client** through the same ``GraphClient`` (same authentication, pacing and
   429 handling), one request in flight: ``/users`` and ``/groups`` paged with
   ``$top=999`` and the engine's ``$select``, then each group's members one request at a
   time (``/groups/{id}/members?$select=id&$top=999``, following nextLinks). Users and
   groups are paged in full; members are read for a random sample of ``--naive-groups``
   groups and the time (and requests) extrapolated linearly to every group; the output says
   when it did. The ratio naive / ours (goal >= 5) is given against a full backup of the
   same data (users and groups only, into a second fresh repository) and against the full
   backup of every type.
4. **Incremental after 1 % changed**: ``jobTitle`` or ``department`` of 1 % of the users
   PATCHed through Graph (``$batch`` of 20, the emulator's default app), and the
   memberships of 1 % of the groups changed (one member removed, one user added), then a
   backup: its wall time, the ratio to the full backup (goal <= 0.10), its new versions.
   Only cloud users and groups an app may change are picked (Graph refuses writes to
   synced objects, dynamic groups and mail-enabled security groups).
5. **Incremental with no change**: its wall time (goal < 5 s).
6. **Peak memory** of the backup worker (``ru_maxrss``; goal < 500 MB), with its resident
   size before the first backup (interpreter, imports, argon2id) for reference.

Each backup also reports when its first type started reading and the time spent opening the
snapshot writer (which reloads the repository index), committing and recording the catalog
(the worker wraps those three engine calls with timers; nothing else changes), and the
slowest types with their start offsets.

Every backup and the naive baseline start after ``--cooldown`` seconds (default 10, one
window of the RU bucket) so that none pays for the throttle debt of the previous phase:
the client's budget starts each run with a full bucket, as a fresh process would.

At ``--users 100000`` the emulator needs about 30 s and 1.2 GB to start and the whole run
takes about 20 minutes, most of it the naive baseline (500 groups sampled). The figures of
the last full-size run are in docs/backup.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import resource
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from _bench_support import Child, connection_of, control, counters_text, say
from entra_backup.catalog import Catalog
from entra_backup.domain.documents import as_edge_list
from entra_backup.domain.object_types import TYPES, Capture, by_name
from entra_backup.graph.batch import BatchRequest
from entra_backup.graph.client import GraphClient, TenantConnection
from entra_backup.services import catalog_sync
from entra_backup.services.backup.engine import BackupProgress, run_backup
from entra_backup.services.backup.per_object import per_object_relationships
from entra_backup.services.backup.scope import BackupScope
from entra_backup.store.backends.local import LocalBackend
from entra_backup.store.keys.passphrase import PassphraseKeyProvider
from entra_backup.store.repository import Repository
from entra_backup.store.stats import total_file_bytes
from entra_backup.store.writer import SnapshotWriter

DELTA_PAGE_OBJECTS = 200
DELTA_PAGE_REFERENCES = 1000
BATCH_SIZE = 20
DIRECTORY_PAGE = 999
DEFAULT_PAGE = 100
TOP_COLLECTIONS = frozenset({"/users", "/groups", "/applications", "/servicePrincipals",
                             "/devices", "/directory/administrativeUnits"})
"""Collections read with ``$top=999``; the others come in Graph's default page of 100."""
PASSPHRASE = "bench-backup correct horse battery staple"
CHANGED_SHARE = 0.01
GOALS = {"ratio_requests": 1.1, "ratio_naive": 5.0, "ratio_incremental": 0.10,
         "no_change_seconds": 5.0, "peak_mb": 500.0}


# --- the backup worker (a child process) ------------------------------------------------


PHASES: dict[str, float] = {}
"""Seconds spent, during the current backup, in the steps :func:`time_phases` wraps."""


def time_phases() -> None:
    """Wrap three engine steps with timers (in the worker only; behaviour is unchanged):
    opening the snapshot writer (it reloads the repository index), the commit, and the
    catalog recording that follows it."""

    def timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                PHASES[name] = PHASES.get(name, 0.0) + time.perf_counter() - started
        return wrapper

    Repository.writer = timed("open_writer", Repository.writer)  # type: ignore[method-assign]
    SnapshotWriter.commit = timed("commit", SnapshotWriter.commit)  # type: ignore[method-assign]
    catalog_sync.record = timed("catalog", catalog_sync.record)


class Worker:
    """The backup worker: JSON commands on stdin, one JSON answer per line on stdout."""

    def __init__(self) -> None:
        self.repos: dict[str, Repository] = {}
        self.catalogs: dict[str, Catalog] = {}
        self.last: dict[str, Any] = {}
        self.info: dict[str, str] = {}
        self.users = 0

    def connection(self) -> TenantConnection:
        return connection_of(self.info, self.users)

    def init(self, command: dict[str, Any]) -> dict[str, Any]:
        self.info, self.users = command["info"], int(command["users"])
        started = time.perf_counter()
        name = command["name"]
        self.repos[name] = Repository.init(LocalBackend(command["repo_dir"]),
                                           PassphraseKeyProvider(PASSPHRASE))
        self.catalogs[name] = Catalog.open(command["catalog_url"])
        return {"seconds": time.perf_counter() - started, "maxrss_mb": maxrss_mb()}

    def backup(self, command: dict[str, Any]) -> dict[str, Any]:
        name = command["name"]
        repo, catalog = self.repos[name], self.catalogs[name]
        scope = BackupScope(types=tuple(command.get("types", ())))

        spans: dict[str, list[float]] = {}
        progress = BackupProgress(
            started=lambda type_name: spans.__setitem__(type_name, [time.perf_counter()]),
            finished=lambda outcome: spans[outcome.name].append(time.perf_counter()))

        async def run() -> Any:
            async with GraphClient.connect(self.connection()) as client:
                return await run_backup(client, repo, "bench", scope, catalog=catalog,
                                        full=bool(command.get("full", False)),
                                        progress=progress)

        PHASES.clear()
        started = time.perf_counter()
        summary = asyncio.run(run())
        seconds = time.perf_counter() - started
        self.last[name] = summary.snapshot_id
        type_seconds = {type_name: {"start": span[0] - started, "seconds": span[-1] - span[0]}
                        for type_name, span in spans.items()}
        return {"seconds": seconds, "summary": summary.to_json(), "type_seconds": type_seconds,
                "phases": dict(PHASES),
                "repo_bytes": total_file_bytes(repo.backend), "maxrss_mb": maxrss_mb()}

    def references(self, command: dict[str, Any]) -> dict[str, Any]:
        """Per type: objects, delta-annotation edges, per-object edges beyond a page."""
        name = command["name"]
        repo = self.repos[name]
        snapshot = repo.load_snapshot(self.last[name])
        counts: dict[str, Any] = {}
        for object_type in TYPES:
            if object_type.name not in snapshot.types or \
                    snapshot.types[object_type.name].manifest is None:
                continue
            objects = references = extra_pages = 0
            for _, document in repo.objects(snapshot, object_type.name, order="storage"):
                objects += 1
                for relationship in object_type.relationships:
                    edges = len(as_edge_list(document.get(relationship.name)))
                    if relationship.capture is Capture.DELTA_ANNOTATION:
                        references += edges
                    else:
                        extra_pages += max(0, math.ceil(edges / DIRECTORY_PAGE) - 1)
            counts[object_type.name] = {"objects": objects, "references": references,
                                        "extra_pages": extra_pages}
        return counts


def worker_main() -> None:
    """Serve commands until ``quit``; answers go to the real stdout, the rest to stderr."""
    answers: TextIO = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    time_phases()
    worker = Worker()
    for line in sys.stdin:
        command = json.loads(line)
        action = command["do"]
        if action == "quit":
            for catalog in worker.catalogs.values():
                catalog.close()
            answers.write(json.dumps({"maxrss_mb": maxrss_mb()}) + "\n")
            return
        try:
            answer = getattr(worker, action)(command)
        except Exception as exc:  # reported to the orchestrator, which stops
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        answers.write(json.dumps(answer) + "\n")


def maxrss_mb() -> float:
    """This process's peak resident size in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- the minimum-request model ----------------------------------------------------------


def minimum_requests(counts: dict[str, dict[str, int]]) -> dict[str, Any]:
    """Per type and in total, the requests the documented API needs (module docstring)."""
    per_type: dict[str, dict[str, int]] = {}
    for object_type in TYPES:
        if object_type.name not in counts:
            continue
        seen = counts[object_type.name]
        objects, references = seen["objects"], seen["references"]
        if object_type.singleton:
            reads = 1
        elif object_type.delta:
            reads = max(math.ceil(objects / DELTA_PAGE_OBJECTS),
                        math.ceil(references / DELTA_PAGE_REFERENCES), 1)
        else:
            page = DIRECTORY_PAGE if object_type.path in TOP_COLLECTIONS else DEFAULT_PAGE
            reads = max(math.ceil(objects / page), 1)
        inner = objects * (len(per_object_relationships(object_type))
                           + (1 if object_type.per_object_select else 0))
        extra = math.ceil(inner / BATCH_SIZE) + seen["extra_pages"]
        per_type[object_type.name] = {"objects": objects, "references": references,
                                      "reads": reads, "per_object_inner": inner,
                                      "per_object_requests": extra, "total": reads + extra}
    return {"types": per_type, "total": sum(row["total"] for row in per_type.values())}


# --- the naive client and the changes (in this process) ---------------------------------


async def naive_read(info: dict[str, str], users: int, sample_size: int, seed: int
                     ) -> dict[str, Any]:
    """Users and groups paged, then members group by group, one request in flight."""
    user_select = ",".join(by_name("users").select)
    group_select = ",".join(by_name("groups").select)
    async with GraphClient.connect(connection_of(info, users)) as client:
        await client.authenticate()
        started = time.perf_counter()
        # Only what the changes need is kept, so this process stays small.
        users_read = [{"id": u["id"], "onPremisesSyncEnabled": u.get("onPremisesSyncEnabled")}
                      async for u in client.iterate(
                          "/users", {"$top": "999", "$select": user_select})]
        groups_read = [{key: g.get(key) for key in ("id", "onPremisesSyncEnabled",
                                                   "groupTypes", "mailEnabled")}
                       async for g in client.iterate(
                           "/groups", {"$top": "999", "$select": group_select})]
        group_ids = [str(g["id"]) for g in groups_read]
        listing_seconds = time.perf_counter() - started
        listing_requests = client.counters.requests
        sample = random.Random(seed).sample(group_ids, min(sample_size, len(group_ids)))
        members: dict[str, list[str]] = {}
        started = time.perf_counter()
        for group_id in sample:
            members[group_id] = [m["id"] async for m in client.iterate(
                f"/groups/{group_id}/members", {"$select": "id", "$top": "999"})]
        member_seconds = time.perf_counter() - started
        member_requests = client.counters.requests - listing_requests
        counters = client.counters.as_dict()
    scale = len(group_ids) / len(sample) if sample else 1.0
    return {
        "users": len(users_read), "groups": len(group_ids), "sampled_groups": len(sample),
        "extrapolated": len(sample) < len(group_ids),
        "listing_seconds": listing_seconds, "listing_requests": listing_requests,
        "sample_member_seconds": member_seconds, "sample_member_requests": member_requests,
        "sample_members": sum(len(v) for v in members.values()),
        "seconds": listing_seconds + member_seconds * scale,
        "requests": round(listing_requests + member_requests * scale),
        "counters": counters, "_members": members,
        "_user_ids": [u["id"] for u in users_read if not u.get("onPremisesSyncEnabled")],
        "_group_ids": [g["id"] for g in groups_read if changeable(g)],
    }


def changeable(group: dict[str, Any]) -> bool:
    """Whether Graph lets an app change the group's members (not synced, not dynamic, not a
    mail-enabled security group or distribution list)."""
    kinds = group.get("groupTypes") or []
    return not group.get("onPremisesSyncEnabled") and "DynamicMembership" not in kinds \
        and ("Unified" in kinds or not group.get("mailEnabled"))


async def make_changes(info: dict[str, str], users: int, groups: int, user_ids: list[str],
                       group_ids: list[str], known: dict[str, list[str]], seed: int
                       ) -> dict[str, Any]:
    """1 % of users PATCHed, 1 % of groups with one member removed and one user added.

    ``users`` and ``groups`` are the tenant's counts; the ids are those Graph lets an app
    change (cloud users, groups of assigned membership that are not mail-enabled security
    groups).
    """
    rng = random.Random(seed + 1)
    changed_users = rng.sample(user_ids, min(len(user_ids),
                                             max(1, math.ceil(users * CHANGED_SHARE))))
    group_count = min(len(group_ids), max(1, math.ceil(groups * CHANGED_SHARE)))
    changeable = set(group_ids)
    chosen = [g for g in known if known[g] and g in changeable][:group_count]
    chosen += rng.sample([g for g in group_ids if g not in known],
                         max(0, group_count - len(chosen)))
    requests = []
    for index, user_id in enumerate(changed_users):
        body = {"jobTitle": f"Bench title {index}"} if index % 2 else \
            {"department": f"Bench department {index}"}
        requests.append(BatchRequest("PATCH", f"/users/{user_id}", body=body))
    started = time.perf_counter()
    async with GraphClient.connect(connection_of(info, users)) as client:
        for group_id in chosen:
            if group_id not in known:
                known[group_id] = [m["id"] async for m in client.iterate(
                    f"/groups/{group_id}/members", {"$select": "id", "$top": "999"})]
            current = set(known[group_id])
            if known[group_id]:
                requests.append(BatchRequest(
                    "DELETE", f"/groups/{group_id}/members/{known[group_id][0]}/$ref"))
            newcomer = rng.choice(user_ids)
            while newcomer in current:
                newcomer = rng.choice(user_ids)
            requests.append(BatchRequest(
                "POST", f"/groups/{group_id}/members/$ref",
                body={"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/"
                                   f"{newcomer}"}))
        slices = [requests[i:i + BATCH_SIZE] for i in range(0, len(requests), BATCH_SIZE)]
        gate = asyncio.Semaphore(4)

        async def send(part: list[BatchRequest]) -> list[Any]:
            async with gate:
                return await client.batch(part)

        answers = [r for part in await asyncio.gather(*(send(p) for p in slices)) for r in part]
        counters = client.counters.as_dict()
    failed = [f"{r.request.method} {r.request.url}: {r.status} {r.body}" for r in answers
              if not r.ok]
    if failed:
        raise RuntimeError(f"{len(failed)} changes failed, first: {failed[0]}")
    return {"users_changed": len(changed_users), "groups_changed": len(chosen),
            "writes": len(requests), "seconds": time.perf_counter() - started,
            "requests": counters["requests"]}


# --- the run ----------------------------------------------------------------------------



def backup_row(result: dict[str, Any]) -> dict[str, Any]:
    summary = result["summary"]
    bad = [t["type"] + ":" + t["status"] for t in summary["types"] if t["status"] != "ok"]
    if bad:
        raise RuntimeError(f"the backup did not complete: {bad} "
                           f"{[t['message'] for t in summary['types'] if t['message']]}")
    return {"seconds": result["seconds"], "engine_seconds": summary["seconds"],
            "type_seconds": result["type_seconds"], "phases": result["phases"],
            "objects": summary["objects"], "new_versions": summary["new_versions"],
            "bytes_stored": summary["bytes_stored"], "repo_bytes": result["repo_bytes"],
            "graph": summary["graph"], "maxrss_mb": result["maxrss_mb"],
            "modes": sorted({t["mode"] for t in summary["types"]}),
            "types": {t["type"]: {"objects": t["objects"], "new_versions": t["new_versions"],
                                  "mode": t["mode"], "read": t["read"]}
                      for t in summary["types"]}}


def run(args: argparse.Namespace, temp: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"users": args.users, "seed": args.seed,
                           "latency_ms": args.latency_ms, "throttle": args.throttle}
    started = time.perf_counter()
    emulator = Child([sys.executable, "-m", "entra_backup.cli.main", "emulator", "serve",
                      "--users", str(args.users), "--seed", str(args.seed),
                      "--latency-ms", str(args.latency_ms), "--throttle", args.throttle,
                      "--state-dir", str(temp / "emulator")],
                     stdin=False, log=temp / "emulator.log")
    worker: Child | None = None
    try:
        info = {k: str(v) for k, v in emulator.line().items()}
        out["emulator_start_seconds"] = time.perf_counter() - started
        tenant = control(info, "GET", "/tenants")[info["tenant_id"]]
        out["tenant"] = tenant
        say(args, f"emulator: {args.users:,} users, {tenant.get('groups', 0):,} groups, "
                  f"{sum(tenant.values()):,} objects in all, ready in "
                  f"{out['emulator_start_seconds']:.1f} s "
                  f"(latency {args.latency_ms:g} ms, throttle {args.throttle})")

        worker = Child([sys.executable, str(Path(__file__).resolve()), "--worker"],
                       stdin=True, log=temp / "worker.log")
        for name in ("main", "same"):
            (temp / name).mkdir()
            init = worker.ask(do="init", name=name, info=info, users=args.users,
                              repo_dir=str(temp / name / "repo"),
                              catalog_url=f"sqlite:///{temp / name / 'catalog.db'}")
        out["worker_baseline_mb"] = init["maxrss_mb"]

        def backup(label: str, name: str = "main", **options: Any) -> dict[str, Any]:
            time.sleep(args.cooldown)
            say(args, f"{label}: running...")
            row = backup_row(worker.ask(do="backup", name=name, **options))
            say(args, f"{label}: {row['seconds']:.1f} s, {row['objects']:,} objects, "
                      f"{row['new_versions']:,} new versions, {row['bytes_stored']:,} bytes "
                      f"stored; {counters_text(row['graph'])}; worker peak "
                      f"{row['maxrss_mb']:.0f} MB")
            slowest = sorted(row["type_seconds"].items(), key=lambda item: -item[1]["seconds"])
            say(args, f"    first type started at {first_start(row):.1f} s; " + ", ".join(
                f"{phase} {seconds:.1f} s" for phase, seconds in row["phases"].items()))
            say(args, "    slowest types: " + ", ".join(
                f"{type_name} {span['seconds']:.1f} s (from {span['start']:.1f} s)"
                for type_name, span in slowest[:5]))
            return row

        full = out["full"] = backup("full backup", full=True)
        counts = worker.ask(do="references", name="main")
        minimum = out["minimum"] = minimum_requests(counts)
        out["ratio_requests"] = full["graph"]["requests"] / minimum["total"]
        say(args, f"minimum requests: {minimum['total']:,}; measured / minimum = "
                  f"{out['ratio_requests']:.3f}")
        for type_name, row in minimum["types"].items():
            measured = full["types"].get(type_name, {})
            say(args, f"    {type_name:<26} {row['objects']:>8,} objects "
                      f"{row['references']:>9,} refs -> {row['reads']:>6,} reads + "
                      f"{row['per_object_requests']:>5,} per-object batches "
                      f"({row['per_object_inner']:,} inner); read {measured.get('read', 0):,}")

        same = out["same_data"] = backup("full backup, users and groups only", name="same",
                                         full=True, types=["users", "groups"])

        time.sleep(args.cooldown)
        say(args, f"naive client: paging users and groups, then members of "
                  f"{min(args.naive_groups, tenant.get('groups', 0)):,} sampled groups...")
        naive = asyncio.run(naive_read(info, args.users, args.naive_groups, args.seed))
        user_ids, group_ids, known = naive.pop("_user_ids"), naive.pop("_group_ids"), \
            naive.pop("_members")
        out["naive"] = naive
        note = (f"extrapolated from {naive['sampled_groups']:,} of {naive['groups']:,} groups "
                f"({naive['sample_member_seconds']:.1f} s, "
                f"{naive['sample_member_requests']:,} requests, "
                f"{naive['sample_members']:,} members)") if naive["extrapolated"] \
            else "every group read"
        say(args, f"naive client: {naive['seconds']:.1f} s, {naive['requests']:,} requests "
                  f"(listing {naive['listing_seconds']:.1f} s; {note})")
        out["ratio_naive_same_data"] = naive["seconds"] / same["seconds"]
        out["ratio_naive_full"] = naive["seconds"] / full["seconds"]

        say(args, "changing 1% of users and of groups' memberships...")
        changes = out["changes"] = asyncio.run(
            make_changes(info, args.users, naive["groups"], user_ids, group_ids, known,
                         args.seed))
        say(args, f"changes: {changes['users_changed']:,} users, {changes['groups_changed']:,} "
                  f"groups, {changes['writes']:,} writes in {changes['requests']:,} requests, "
                  f"{changes['seconds']:.1f} s")
        incremental = out["incremental"] = backup("incremental after 1% changed")
        out["ratio_incremental"] = incremental["seconds"] / full["seconds"]
        unchanged = out["no_change"] = backup("incremental with no change")
        out["no_change_seconds"] = unchanged["seconds"]
        final = worker.ask(do="quit")
        out["peak_mb"] = final["maxrss_mb"]
        out["emulator_settings"] = control(info, "GET", "/settings")
    finally:
        if worker is not None:
            worker.stop(signal.SIGTERM)
        emulator.stop()
    return out


def verdict(value: float, goal: float, *, at_most: bool) -> str:
    met = value <= goal if at_most else value >= goal
    return f"{'<=' if at_most else '>='} {goal:g}  {'met' if met else 'NOT MET'}"


def first_start(row: dict[str, Any]) -> float:
    """When, from the start of the backup, the first type began reading."""
    return min((span["start"] for span in row["type_seconds"].values()), default=0.0)


def table(out: dict[str, Any]) -> str:
    full, same, naive = out["full"], out["same_data"], out["naive"]
    inc, none = out["incremental"], out["no_change"]
    lines = [
        f"bench_backup: {out['users']:,} users, seed {out['seed']}, latency "
        f"{out['latency_ms']:g} ms, throttle {out['throttle']}",
        f"{'measure':<44} {'value':>16}   goal",
        "-" * 80,
    ]

    def row(name: str, value: str, goal: str = "") -> None:
        lines.append(f"{name:<44} {value:>16}   {goal}")

    g = full["graph"]
    row("full backup: wall time", f"{full['seconds']:.1f} s")
    row("full backup: Graph requests", f"{int(g['requests']):,}")
    row("full backup: resource units", f"{int(g['resource_units']):,}")
    row("full backup: throttle waits", f"{int(g['throttle_waits'])} "
        f"({g['throttle_wait_seconds']:.1f} s)")
    row("full backup: paced", f"{g['paced_seconds']:.1f} s")
    row("full backup: objects stored", f"{full['objects']:,}")
    row("full backup: bytes stored", f"{full['bytes_stored']:,}")
    row("full backup: repository on disk", f"{full['repo_bytes']:,}")
    row("minimum requests (model)", f"{out['minimum']['total']:,}")
    row("full backup: first type started at", f"{first_start(full):.1f} s")
    row("full backup: catalog recording", f"{full['phases'].get('catalog', 0):.1f} s")
    row("requests measured / minimum", f"{out['ratio_requests']:.3f}",
        verdict(out["ratio_requests"], GOALS["ratio_requests"], at_most=True))
    row("full backup of users+groups: wall time", f"{same['seconds']:.1f} s")
    row("full backup of users+groups: requests", f"{int(same['graph']['requests']):,}")
    extrapolated = " (extrapolated)" if naive["extrapolated"] else ""
    row(f"naive client: wall time{extrapolated}", f"{naive['seconds']:.1f} s")
    row(f"naive client: requests{extrapolated}", f"{naive['requests']:,}")
    if naive["extrapolated"]:
        row("  measured on sampled groups", f"{naive['sampled_groups']:,} of "
            f"{naive['groups']:,}")
    row("naive / ours, same data (users+groups)", f"{out['ratio_naive_same_data']:.1f}",
        verdict(out["ratio_naive_same_data"], GOALS["ratio_naive"], at_most=False))
    row("naive / ours, full backup of every type", f"{out['ratio_naive_full']:.1f}")
    ch = out["changes"]
    row("changes made", f"{ch['users_changed']:,} users + {ch['groups_changed']:,} groups")
    row("incremental (1% changed): wall time", f"{inc['seconds']:.1f} s")
    row("incremental (1% changed): requests", f"{int(inc['graph']['requests']):,}")
    row("incremental (1% changed): new versions", f"{inc['new_versions']:,}")
    row("incremental / full", f"{out['ratio_incremental']:.3f}",
        verdict(out["ratio_incremental"], GOALS["ratio_incremental"], at_most=True))
    row("incremental (no change): wall time", f"{none['seconds']:.1f} s",
        verdict(none["seconds"], GOALS["no_change_seconds"], at_most=True))
    row("incremental (no change): first type at", f"{first_start(none):.1f} s",
        f"opening the writer {none['phases'].get('open_writer', 0):.1f} s")
    row("incremental (no change): throttle waits", f"{int(none['graph']['throttle_waits'])} "
        f"({none['graph']['throttle_wait_seconds']:.1f} s)")
    row("incremental (no change): requests", f"{int(none['graph']['requests']):,}")
    row("incremental (no change): new versions", f"{none['new_versions']:,}")
    row("backup worker: peak memory (ru_maxrss)", f"{out['peak_mb']:.0f} MB",
        verdict(out["peak_mb"], GOALS["peak_mb"], at_most=True))
    row("  of which before the first backup", f"{out['worker_baseline_mb']:.0f} MB")
    row("emulator start", f"{out['emulator_start_seconds']:.1f} s")
    throttled = out["emulator_settings"].get("throttled") or {}
    by_limit = ", ".join(f"{name} {count}" for name, count in sorted(throttled.items()))
    row("429s the emulator sent (whole run)", f"{sum(throttled.values()):,}", by_limit)
    row("requests retried too early (emulator)",
        f"{out['emulator_settings'].get('retried_too_early', 0):,}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--throttle", choices=("real", "off"), default="real")
    parser.add_argument("--naive-groups", type=int, default=500,
                        help="groups whose members the naive client reads (then extrapolated)")
    parser.add_argument("--cooldown", type=float, default=10.0,
                        help="seconds of rest before each backup and the naive baseline")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object on stdout (progress and table on stderr)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker_main()
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-backup-") as temp:
        out = run(args, Path(temp))
    say(args, "\n" + table(out))
    if args.json:
        print(json.dumps(out, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
