"""Restore of hard-deleted users with their group memberships against the emulator.

    python bench/bench_restore.py [--users 10000] [--groups 200] [--memberships-per-user 2]
                                  [--tenant-users 50] [--seed 1] [--latency-ms 50] [--json]

Issue 5: "Restoring 10,000 hard-deleted users with their memberships in 200 groups, against
the emulator with real throttling: wall time compared with the lower bound set by the write
quota (goal: within 1.2x), and number of Graph writes compared with the minimum."

Three processes: the emulator (``entra-backup emulator serve``, 50 ms per Graph answer and
the documented throttling), a worker that holds the repository and runs the backup and the
restore through the services API, and this process, which sets the tenant up and breaks it
through Graph, steers the worker, reads the emulator's log and checks the result.

Set-up, none of it charged to the quota the restore is measured against:

1. The emulator starts with a generated tenant of ``--tenant-users`` users. Throttling is
   switched off (``POST /settings {"throttle": "off"}``: the gates then charge nothing) and
   this process, with the emulator's default app (which may write), over plain HTTPS in
   ``$batch`` requests of 20 (a few in flight), creates ``--groups`` assigned security
   groups and ``--users`` cloud-only users (``userPrincipalName`` on the tenant's default
   verified domain, ``mailNickname``, ``displayName``, ``accountEnabled``,
   ``passwordProfile``, ``jobTitle``, ``department``, ``companyName``, ``city``). User
   ``i`` joins groups ``(i + k) mod groups`` for ``k < --memberships-per-user``, through
   ``PATCH /groups/{id}`` with ``members@odata.bind`` (20 per request), so a group holds
   about ``users * memberships-per-user / groups`` members (100 at the issue's sizes).
2. The worker backs users and groups up (``run_backup``, the scope restricted to those two
   types) into a new local-disk repository (passphrase key provider) with a SQLite catalog.
   The snapshot's members of every bench group must be those set up.
3. Every bench user is deleted (``DELETE /users/{id}``) and purged from the recycle bin
   (``DELETE /directory/deletedItems/{id}``); every bench group must then be empty.

Then every budget of the emulator is refilled (``POST /throttle/reset``) and throttling set
back to ``real``, so the restore starts with the full buckets a new restore app finds
(3,000 writes at once, then 20/s). The worker, with a fresh ``GraphClient`` (sized for the
tenant's users at that moment), runs ``make_plan(client, repo, snapshot,
RestoreOptions(types=("users", "groups")))`` and then ``execute_plan(client, repo,
snapshot, plan, journal, default_password=..., verify=EarlierRestores())``: the steps and
then the verification pass, as the ``restore`` command runs them (it passes what earlier
runs re-created; the bench's repository has no earlier runs). Measured, in one run:

* **Wall time** of planning, of the steps and of the verification, separately, with the
  client's counters after each (``requests``, ``resource_units``, ``throttle_waits``,
  ``throttle_wait_seconds``, ``paced_seconds``, ``retries``; the client does not count
  writes). The verification is the product's own call (``verify_run``, made at the end of
  ``execute_plan``), wrapped while the restore runs to time it; the emulator's log is
  split at its start.
* **The verification**: its requests in the emulator's log (plain GETs, ``$batch``
  envelopes and their sub-requests, by kind), its share of the restore's time (planning +
  steps + verification; goal <= 10 % when the write quota bounds the restore, since
  its reads are not bound by it; n/a when ``W_min`` fits in the burst) and of the
  client's requests, and its headline (objects and relationships in scope, equal,
  fixed by a second pass, differences left). A verification that is not ok fails the run.
* **Writes**, counted in the emulator's log (``GET /log?since=``: every request served from
  just before planning). A ``$batch`` envelope (``POST /$batch``) is logged and so is each
  inner request, so writes are the non-GET records minus the envelopes; refused ones are
  included, as Graph charges them too. The 429 answers in the log are counted apart.
* **The minimum writes** ``W_min``: one ``POST /users`` per deleted user (a user create
  cannot carry group memberships) plus, per group, ``ceil(members to re-add / 20)``
  ``PATCH /groups/{id}`` with ``members@odata.bind`` of 20 (graph-facts 5.4; how Graph
  costs such a PATCH is undocumented, the emulator charges one write). The members to
  re-add are the snapshot's members of the group that were deleted. Ratio measured /
  minimum (1.0 is the best possible).
* **The write-quota lower bound**: the bucket holds 3,000 writes and refills at 20/s, so a
  restore that starts with it full cannot send its last write before
  ``(W_min - 3,000) / 20`` s. The ratio **execution time / that bound** (goal <= 1.2) uses
  this bound, not ``W_min / 20``: the first 3,000 writes may go at once, so a restore can
  finish sooner than ``W_min / 20`` and that figure is no bound (it is printed too: the
  time the writes take at the refill rate, as after another job emptied the bucket). The
  plan's reads cost no write quota and are timed apart; the ratio of planning plus
  execution to the bound is printed as well. When ``W_min`` fits in the burst (small
  runs), the bound is 0 and no ratio is given.

Finally, with throttling off again, the result is checked through plain Graph reads:
every bench user is live again by ``userPrincipalName``, with the id the report's
``id_map`` gives and the attributes set up; every bench group's members equal its
backed-up members mapped through ``id_map``; the report is ok. Failures are printed and
the exit code is 1.

The emulator keeps its last 100,000 log records; a full-size run logs about 45,000.

At the issue's sizes the set-up takes about 35 s and a run about 7 minutes. Measured
there: 11,000 writes for a minimum of 11,000; execution 400 s against the 400 s bound, and
722 s (ratio 1.80) with the earlier executor that re-created users one POST at a time
instead of sharing ``$batch`` requests of 20; the verification 6.0 s (1.5 % of the
restore's time) in 77 GETs (``docs/restore.md``, "Measured").
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import signal
import ssl
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO, TypeVar

import httpx

from _bench_support import Child, connection_of, control, counters_text, say
from entra_backup.catalog import Catalog
from entra_backup.domain.documents import as_edge_list
from entra_backup.domain.restore.plan import PlanItem
from entra_backup.graph.auth import TokenProvider
from entra_backup.graph.batch import BatchRequest
from entra_backup.graph.client import GraphClient
from entra_backup.services.backup.engine import BackupSummary, run_backup
from entra_backup.services.backup.scope import BackupScope
from entra_backup.services.restore import execute
from entra_backup.services.restore.context import RunContext
from entra_backup.services.restore.execute import execute_plan
from entra_backup.services.restore.ids import EarlierRestores
from entra_backup.services.restore.plan import RestoreOptions, make_plan
from entra_backup.services.restore.verification import Verification
from entra_backup.store.backends.local import LocalBackend
from entra_backup.store.keys.passphrase import PassphraseKeyProvider
from entra_backup.store.repository import Repository

TYPES = ("users", "groups")
BATCH_SIZE = 20
BIND_SIZE = 20
WRITE_QUOTA = 3000
WRITES_PER_SECOND = 20.0
GOAL_RATIO = 1.2
GOAL_VERIFICATION_SHARE = 0.10
SETUP_CONCURRENCY = 8
PASSPHRASE = "bench-restore correct horse battery staple"
USER_PASSWORD = "Bench!Restore-2026-set-up"
DEFAULT_PASSWORD = "Bench!Restore-2026-default"
PREFIX = "bench.restore"
PROGRESS_EVERY = 1000
SHOWN_FAILURES = 10

T = TypeVar("T")


# --- the worker (a child process) -------------------------------------------------------


class Worker:
    """Backup and restore: JSON commands on stdin, one JSON answer per line on stdout."""

    def __init__(self) -> None:
        self.info: dict[str, str] = {}
        self.repo: Repository | None = None
        self.catalog: Catalog | None = None
        self.snapshot_id = ""

    def init(self, command: dict[str, Any]) -> dict[str, Any]:
        self.info = command["info"]
        self.repo = Repository.init(LocalBackend(command["repo_dir"]),
                                    PassphraseKeyProvider(PASSPHRASE))
        self.catalog = Catalog.open(command["catalog_url"])
        return {}

    def backup(self, command: dict[str, Any]) -> dict[str, Any]:
        repo = self.repo
        assert repo is not None

        async def run() -> BackupSummary:
            async with GraphClient.connect(connection_of(self.info, command["users"])) as client:
                return await run_backup(client, repo, "bench", BackupScope(types=TYPES),
                                        catalog=self.catalog, full=True)

        started = time.perf_counter()
        summary = asyncio.run(run())
        self.snapshot_id = summary.snapshot_id
        bad = [f"{t.name}: {t.status} {t.message}" for t in summary.types if t.status != "ok"]
        if bad:
            raise RuntimeError(f"the backup did not complete: {bad}")
        return {"seconds": time.perf_counter() - started,
                "objects": sum(t.objects for t in summary.types),
                "snapshot": summary.snapshot_id}

    def members(self, command: dict[str, Any]) -> dict[str, Any]:
        """The snapshot's member ids of the given groups."""
        assert self.repo is not None
        snapshot = self.repo.load_snapshot(self.snapshot_id)
        wanted = set(command["groups"])
        return {group_id: sorted(str(e["id"]) for e in as_edge_list(document.get("members")))
                for group_id, document in self.repo.objects(snapshot, "groups")
                if group_id in wanted}

    def restore(self, command: dict[str, Any]) -> dict[str, Any]:
        return asyncio.run(self._restore(int(command["users"]), Path(command["journal"])))

    async def _restore(self, users: int, journal: Path) -> dict[str, Any]:
        assert self.repo is not None
        snapshot = self.repo.load_snapshot(self.snapshot_id)
        async with GraphClient.connect(connection_of(self.info, users)) as client:
            await client.authenticate()
            started = time.perf_counter()
            plan = await make_plan(client, self.repo, snapshot, RestoreOptions(types=TYPES))
            plan_seconds = time.perf_counter() - started
            plan_counters = client.counters.as_dict()
            progress = Progress(len(plan.items))
            timer = VerificationTimer(client)
            started = time.perf_counter()
            with timer.installed():
                # As the restore command runs it: verification after the steps, with
                # what earlier runs re-created (none: the bench's home has no runs).
                report = await execute_plan(client, self.repo, snapshot, plan, journal,
                                            default_password=DEFAULT_PASSWORD,
                                            progress=progress, verify=EarlierRestores())
            execute_seconds = time.perf_counter() - started
            counters = client.counters.as_dict()
        actions = Counter(f"{item.action.value} {item.type}" for item in plan.items)
        steps = {k: v - plan_counters[k] - timer.counters[k] for k, v in counters.items()}
        return {"plan_seconds": plan_seconds,
                "execute_seconds": execute_seconds - timer.seconds,
                "plan_counters": plan_counters, "execute_counters": steps,
                "verification": {"seconds": timer.seconds, "counters": timer.counters,
                                 "started_at": timer.started_at,
                                 "headline": headline(report.verification)},
                "plan": {"items": len(plan.items), "actions": dict(actions),
                         "writes": plan.writes(), "estimated_seconds": plan.estimated_seconds()},
                "report": report_summary(report)}


class VerificationTimer:
    """Times the verification pass inside ``execute_plan``: the product's own call
    (``execute.verify_run``), wrapped while the restore runs so that its seconds and the
    client's requests can be told apart from the steps'."""

    def __init__(self, client: GraphClient) -> None:
        self.client = client
        self.seconds = 0.0
        self.started_at = 0.0
        """Wall-clock start (epoch seconds), to split the emulator's log."""
        self.counters = {k: 0.0 for k in client.counters.as_dict()}

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        original = execute.verify_run

        async def timed_verify(ctx: RunContext, plan: Any, report: Any,
                               earlier: EarlierRestores) -> Verification:
            before = self.client.counters.as_dict()
            self.started_at = time.time()
            started = time.perf_counter()
            try:
                return await original(ctx, plan, report, earlier)
            finally:
                self.seconds = time.perf_counter() - started
                after = self.client.counters.as_dict()
                self.counters = {k: after[k] - before[k] for k in after}

        execute.verify_run = timed_verify
        try:
            yield
        finally:
            execute.verify_run = original


def headline(verification: Verification | None) -> dict[str, Any]:
    """The verification's figures without its (possibly long) list of differences."""
    if verification is None:
        return {"missing": True}
    found = verification.to_json()
    differences = found.pop("differences")
    found["first_differences"] = [f"{d['type']}/{d['object_id']}: {d['what']}: {d['reason']}"
                                  for d in differences[:SHOWN_FAILURES]]
    found.pop("not_compared")
    found["line"] = verification.headline()
    return found


class Progress:
    """Logs every thousandth item to stderr (the worker's log), to follow a long run."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.started = time.perf_counter()

    def __call__(self, item: PlanItem, outcome: str) -> None:
        self.done += 1
        if self.done % PROGRESS_EVERY == 0 or self.done == self.total:
            print(f"{time.perf_counter() - self.started:8.1f} s: {self.done:,} of "
                  f"{self.total:,} items ({item.action.value} {item.type}: {outcome})",
                  file=sys.stderr, flush=True)


def report_summary(report: Any) -> dict[str, Any]:
    """The report's outcome; ``Any``: its class is moving between modules (restore refactor)."""
    failed = [f"{i.action} {i.type} {i.object_id}: {i.reason}" for i in report.failed]
    return {"ok": report.ok, "counts": report.counts, "id_map": report.id_map,
            "failed": failed[:SHOWN_FAILURES], "failed_count": len(failed)}


def worker_main() -> None:
    """Serve commands until ``quit``; answers go to the real stdout, the rest to stderr."""
    answers: TextIO = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    worker = Worker()
    for line in sys.stdin:
        command = json.loads(line)
        if command["do"] == "quit":
            if worker.catalog is not None:
                worker.catalog.close()
            answers.write("{}\n")
            return
        try:
            answer = getattr(worker, command["do"])(command)
        except Exception as exc:  # reported to the orchestrator, which stops
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        answers.write(json.dumps(answer) + "\n")


# --- plain Graph calls for the set-up and the check (this process) ----------------------


class PlainGraph:
    """Graph over HTTPS with the default app's token, without the engine's budget: set-up
    and checks run with throttling off, and the engine would pace them to the quota."""

    def __init__(self, info: dict[str, str]) -> None:
        connection = connection_of(info, 1)
        self.tokens = TokenProvider(connection.endpoints(), info["client_id"],
                                    info["client_secret"], ca_bundle=info["ca_bundle"])
        self.http = httpx.AsyncClient(
            base_url=info["graph_url"] + "/", timeout=300,
            verify=ssl.create_default_context(cafile=info["ca_bundle"]))
        self.gate = asyncio.Semaphore(SETUP_CONCURRENCY)

    async def aclose(self) -> None:
        await self.http.aclose()
        self.tokens.close()

    async def get(self, url: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        token = await self.tokens.atoken()
        response = await self.http.get(url.lstrip("/"), params=params,
                                       headers={"Authorization": f"Bearer {token}"})
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    async def iterate(self, path: str, params: dict[str, str]) -> list[dict[str, Any]]:
        """Every item of a collection, following nextLinks."""
        body = await self.get(path, params)
        items = list(body["value"])
        while isinstance(body.get("@odata.nextLink"), str):
            body = await self.get(body["@odata.nextLink"])
            items.extend(body["value"])
        return items

    async def batch(self, requests: Sequence[BatchRequest]) -> list[dict[str, Any]]:
        """Inner answers in request order, 20 requests to a ``$batch``, a few in flight."""
        chunks = [requests[i:i + BATCH_SIZE] for i in range(0, len(requests), BATCH_SIZE)]
        answered = await asyncio.gather(*(self._chunk(chunk) for chunk in chunks))
        return [answer for chunk in answered for answer in chunk]

    async def writes(self, requests: Sequence[BatchRequest]) -> list[dict[str, Any]]:
        """:meth:`batch`, failing on the first inner answer that is not a success."""
        answers = await self.batch(requests)
        for request, answer in zip(requests, answers, strict=True):
            if not 200 <= int(answer["status"]) < 300:
                raise RuntimeError(f"set-up write failed: {request.method} {request.url}: "
                                   f"{answer['status']} {answer.get('body')}")
        return answers

    async def _chunk(self, chunk: Sequence[BatchRequest]) -> list[dict[str, Any]]:
        wire = [{"id": str(n), "method": r.method, "url": r.url,
                 **({"body": r.body, "headers": {"Content-Type": "application/json"}}
                    if r.body is not None else {})} for n, r in enumerate(chunk)]
        async with self.gate:
            token = await self.tokens.atoken()
            response = await self.http.post("$batch", json={"requests": wire},
                                            headers={"Authorization": f"Bearer {token}"})
        response.raise_for_status()
        by_id = {str(a["id"]): a for a in response.json()["responses"]}
        return [by_id[str(n)] for n in range(len(chunk))]


@dataclass
class Bench:
    """What the set-up created: groups, users (old id -> what was set), memberships."""

    domain: str
    groups: list[str] = field(default_factory=list)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    members: dict[str, list[str]] = field(default_factory=dict)


def user_body(index: int, domain: str) -> dict[str, Any]:
    name = f"{PREFIX}.{index:05d}"
    return {"accountEnabled": True, "displayName": f"Bench Restore User {index:05d}",
            "mailNickname": name.replace(".", "-"), "userPrincipalName": f"{name}@{domain}",
            "passwordProfile": {"password": USER_PASSWORD,
                                "forceChangePasswordNextSignIn": True},
            "jobTitle": f"Bench title {index % 37}",
            "department": f"Bench department {index % 11}",
            "companyName": "Bench Restore Ltd", "city": f"Bench city {index % 7}"}


def group_body(index: int) -> dict[str, Any]:
    return {"displayName": f"Bench Restore Group {index:03d}",
            "mailNickname": f"bench-restore-group-{index:03d}", "description": "bench_restore",
            "mailEnabled": False, "securityEnabled": True, "groupTypes": []}


async def set_up(graph: PlainGraph, args: argparse.Namespace) -> Bench:
    """Groups, users, and ``members@odata.bind`` PATCHes of 20 (module docstring, step 1)."""
    domains = (await graph.get("domains"))["value"]
    bench = Bench(next(d["id"] for d in domains if d.get("isDefault")))
    created = await graph.writes([BatchRequest("POST", "/groups", group_body(g))
                                  for g in range(args.groups)])
    bench.groups = [str(a["body"]["id"]) for a in created]
    bodies = [user_body(i, bench.domain) for i in range(args.users)]
    created = await graph.writes([BatchRequest("POST", "/users", b) for b in bodies])
    user_ids = [str(a["body"]["id"]) for a in created]
    bench.users = {user_id: {k: v for k, v in body.items() if k != "passwordProfile"}
                   for user_id, body in zip(user_ids, bodies, strict=True)}
    bench.members = {group_id: [] for group_id in bench.groups}
    for index, user_id in enumerate(user_ids):
        for k in range(args.memberships_per_user):
            bench.members[bench.groups[(index + k) % args.groups]].append(user_id)
    await graph.writes([bind(group_id, members[i:i + BIND_SIZE], graph)
                        for group_id, members in bench.members.items()
                        for i in range(0, len(members), BIND_SIZE)])
    return bench


def bind(group_id: str, members: list[str], graph: PlainGraph) -> BatchRequest:
    base = str(graph.http.base_url).rstrip("/")
    return BatchRequest("PATCH", f"/groups/{group_id}", {
        "members@odata.bind": [f"{base}/directoryObjects/{m}" for m in members]})


async def hard_delete(graph: PlainGraph, user_ids: list[str]) -> None:
    """Delete, then purge from the recycle bin (module docstring, step 3)."""
    await graph.writes([BatchRequest("DELETE", f"/users/{u}") for u in user_ids])
    await graph.writes([BatchRequest("DELETE", f"/directory/deletedItems/{u}")
                        for u in user_ids])


async def members_of(graph: PlainGraph, group_ids: list[str]) -> dict[str, list[str]]:
    """Live member ids of each group."""
    answers = await graph.batch([BatchRequest("GET", f"/groups/{g}/members?$select=id&$top=999")
                                 for g in group_ids])
    found: dict[str, list[str]] = {}
    for group_id, answer in zip(group_ids, answers, strict=True):
        if answer["status"] != 200:
            raise RuntimeError(f"reading the members of {group_id}: {answer['status']} "
                               f"{answer.get('body')}")
        body = answer["body"]
        ids = [str(m["id"]) for m in body["value"]]
        while isinstance(body.get("@odata.nextLink"), str):
            body = await graph.get(body["@odata.nextLink"])
            ids += [str(m["id"]) for m in body["value"]]
        found[group_id] = sorted(ids)
    return found


async def check_restored(graph: PlainGraph, bench: Bench, stored: dict[str, list[str]],
                         id_map: dict[str, str]) -> list[str]:
    """What differs from the backed-up state (module docstring, last paragraph)."""
    live = await graph.iterate("/users", {"$select": "id,userPrincipalName,jobTitle,department,"
                                                     "companyName,city", "$top": "999"})
    by_upn = {str(u["userPrincipalName"]).lower(): u for u in live}
    problems: list[str] = []
    for old_id, wanted in bench.users.items():
        user = by_upn.get(wanted["userPrincipalName"].lower())
        if user is None:
            problems.append(f"user {wanted['userPrincipalName']} ({old_id}) is not live")
            continue
        if id_map.get(old_id) != user["id"]:
            problems.append(f"user {wanted['userPrincipalName']}: live id {user['id']}, "
                            f"id_map says {id_map.get(old_id)}")
        problems += [f"user {wanted['userPrincipalName']}.{name}: {user.get(name)!r} != "
                     f"{wanted[name]!r}" for name in ("jobTitle", "department", "companyName",
                                                      "city") if user.get(name) != wanted[name]]
    current = await members_of(graph, bench.groups)
    for group_id, members in stored.items():
        want = {id_map.get(m, m) for m in members}
        got = set(current[group_id])
        if want != got:
            problems.append(f"group {group_id}: {len(want - got)} members missing, "
                            f"{len(got - want)} unexpected")
    return problems


# --- the model and the log --------------------------------------------------------------


def minimum_writes(users: int, to_readd: dict[str, int]) -> dict[str, Any]:
    """``W_min`` and the write-quota bounds (module docstring)."""
    patches = sum(math.ceil(n / BIND_SIZE) for n in to_readd.values())
    total = users + patches
    return {"user_creates": users, "member_patches": patches, "total": total,
            "bound_seconds": max(0, total - WRITE_QUOTA) / WRITES_PER_SECOND,
            "steady_seconds": total / WRITES_PER_SECOND}


def logged_writes(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Writes, envelopes and 429s among the emulator's log records."""
    envelopes = sum(1 for r in records if is_envelope(r))
    writes = [r for r in records if r["method"] != "GET" and not is_envelope(r)]
    kinds = Counter(f"{r['method']} {kind_of(r['path'])}" for r in writes)
    return {"records": len(records), "envelopes": envelopes, "writes": len(writes),
            "writes_429": sum(1 for r in writes if r["status"] == 429),
            "writes_failed": sum(1 for r in writes if r["status"] >= 400 and r["status"] != 429),
            "answers_429": sum(1 for r in records if r["status"] == 429),
            "reads": sum(1 for r in records if r["method"] == "GET"),
            "kinds": dict(kinds)}


def logged_reads(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The verification's requests in the emulator's log, by how they were sent: plain
    GETs, ``$batch`` envelopes and the sub-requests inside them (GETs and writes)."""
    envelopes = sum(1 for r in records if is_envelope(r))
    inner = [r for r in records if r["in_batch"]]
    plain = [r for r in records if not r["in_batch"] and not is_envelope(r)]
    return {"records": len(records), "envelopes": envelopes,
            "sub_requests": len(inner),
            "sub_gets": sum(1 for r in inner if r["method"] == "GET"),
            "gets": sum(1 for r in plain if r["method"] == "GET"),
            "writes": sum(1 for r in [*inner, *plain] if r["method"] != "GET"),
            "http_requests": envelopes + len(plain),
            "answers_429": sum(1 for r in records if r["status"] == 429),
            "kinds": dict(Counter(f"{r['method']} {kind_of(r['path'])}"
                                  f"{' (in $batch)' if r['in_batch'] else ''}"
                                  for r in records if not is_envelope(r)))}


def is_envelope(record: dict[str, Any]) -> bool:
    return bool(record["method"] == "POST" and record["path"] == "/$batch")


def kind_of(path: str) -> str:
    """A path with its ids replaced by ``{id}``, to count writes by kind."""
    return "/".join("{id}" if len(part) == 36 and part.count("-") == 4 else part
                    for part in path.split("/"))


# --- the run ----------------------------------------------------------------------------



def timed(args: argparse.Namespace, out: dict[str, Any], label: str,
          work: Coroutine[Any, Any, T] | Callable[[], T]) -> T:
    """Run a coroutine or a call, recording and printing how long it took."""
    started = time.perf_counter()
    result = asyncio.run(work) if asyncio.iscoroutine(work) else work()
    out.setdefault("setup_seconds", {})[label] = seconds = time.perf_counter() - started
    say(args, f"{label}: {seconds:.1f} s")
    return result


async def with_graph(info: dict[str, str], action: Callable[..., Awaitable[T]],
                     *extra: Any) -> T:
    """``action(graph, *extra)`` with a :class:`PlainGraph` closed afterwards."""
    graph = PlainGraph(info)
    try:
        return await action(graph, *extra)
    finally:
        await graph.aclose()


def prepare(args: argparse.Namespace, info: dict[str, str], worker: Child, temp: Path,
            out: dict[str, Any]) -> tuple[Bench, dict[str, list[str]]]:
    """Steps 1-3 of the module docstring; the bench and the snapshot's members."""
    control(info, "POST", "/settings", {"throttle": "off"})
    bench = timed(args, out, "set-up: groups, users, memberships",
                  with_graph(info, set_up, args))
    worker.ask(do="init", info=info, repo_dir=str(temp / "repo"),
               catalog_url=f"sqlite:///{temp / 'catalog.db'}")
    backup = timed(args, out, "backup of users and groups",
                   lambda: worker.ask(do="backup", users=args.tenant_users + args.users))
    out["backup"] = backup
    stored = worker.ask(do="members", groups=bench.groups)
    wrong = [g for g in bench.groups if stored.get(g) != sorted(bench.members[g])]
    if wrong:
        raise RuntimeError(f"the snapshot's members differ from the set-up in {len(wrong)} "
                           f"groups, first {wrong[0]}")
    timed(args, out, "hard deletion of the bench users",
          with_graph(info, hard_delete, list(bench.users)))
    left = timed(args, out, "reading the bench groups' members",
                 with_graph(info, members_of, bench.groups))
    if any(left.values()):
        raise RuntimeError("bench groups still have members after the hard deletion")
    return bench, stored


def measure(args: argparse.Namespace, info: dict[str, str], worker: Child, temp: Path,
            out: dict[str, Any]) -> dict[str, Any]:
    """Step 4: fresh buckets, real throttling, the restore; the log of what it sent."""
    live_users = control(info, "GET", "/tenants")[info["tenant_id"]].get("users", 0)
    control(info, "POST", "/throttle/reset")
    before = control(info, "POST", "/settings", {"throttle": "real"})
    since = time.time()
    say(args, "restore: planning and executing (progress in the worker's log)...")
    restored = worker.ask(do="restore", users=live_users, journal=str(temp / "journal.jsonl"))
    after = control(info, "GET", "/settings")
    records = control(info, "GET", f"/log?since={since}")
    verify_from = restored["verification"]["started_at"]
    # Every write counts, the second pass's too; the verification's share is shown apart.
    out["log"] = logged_writes(records)
    out["verification_log"] = logged_reads([r for r in records if r["time"] >= verify_from])
    out["emulator_429s"] = {name: count - before["throttled"].get(name, 0)
                            for name, count in after["throttled"].items()}
    out["retried_too_early"] = after["retried_too_early"] - before["retried_too_early"]
    out["throttle_during_restore"] = after["throttle"]
    control(info, "POST", "/settings", {"throttle": "off"})
    return restored


def run(args: argparse.Namespace, temp: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"users": args.users, "groups": args.groups,
                           "memberships_per_user": args.memberships_per_user,
                           "tenant_users": args.tenant_users, "seed": args.seed,
                           "latency_ms": args.latency_ms}
    emulator = Child([sys.executable, "-m", "entra_backup.cli.main", "emulator", "serve",
                      "--users", str(args.tenant_users), "--seed", str(args.seed),
                      "--latency-ms", str(args.latency_ms), "--throttle", "real",
                      "--state-dir", str(temp / "emulator")],
                     stdin=False, log=temp / "emulator.log")
    worker: Child | None = None
    try:
        info = {k: str(v) for k, v in emulator.line().items()}
        worker = Child([sys.executable, str(Path(__file__).resolve()), "--worker"],
                       stdin=True, log=temp / "worker.log")
        bench, stored = prepare(args, info, worker, temp, out)
        restored = measure(args, info, worker, temp, out)
        report = restored.pop("report")
        out.update(restored)
        out["report"] = {k: v for k, v in report.items() if k != "id_map"}
        deleted = set(bench.users)
        to_readd = {g: sum(1 for m in members if m in deleted) for g, members in stored.items()}
        out["memberships"] = sum(to_readd.values())
        out["minimum"] = minimum_writes(len(bench.users), to_readd)
        out["problems"] = timed(args, out, "checking the restored tenant", with_graph(
            info, check_restored, bench, stored, report["id_map"]))
        worker.ask(do="quit")
    finally:
        if worker is not None:
            worker.stop(signal.SIGTERM)
        emulator.stop()
    add_ratios(out)
    return out


def add_ratios(out: dict[str, Any]) -> None:
    minimum, bound = out["minimum"]["total"], out["minimum"]["bound_seconds"]
    out["ratio_writes"] = out["log"]["writes"] / minimum
    out["ratio_time"] = out["execute_seconds"] / bound if bound else None
    out["ratio_time_with_plan"] = (out["plan_seconds"] + out["execute_seconds"]) / bound \
        if bound else None
    verification = out["verification"]
    restore_seconds = out["plan_seconds"] + out["execute_seconds"] + verification["seconds"]
    restore_requests = (out["plan_counters"]["requests"] + out["execute_counters"]["requests"]
                        + verification["counters"]["requests"])
    out["restore_seconds"] = restore_seconds
    out["verification_share_time"] = verification["seconds"] / restore_seconds
    out["verification_share_requests"] = verification["counters"]["requests"] / \
        restore_requests if restore_requests else 0.0
    out["ok"] = out["report"]["ok"] and not out["problems"] and \
        verification["headline"].get("ok") is True


def table(out: dict[str, Any]) -> str:
    minimum, log, plan = out["minimum"], out["log"], out["plan"]
    lines = [f"bench_restore: {out['users']:,} users, {out['groups']:,} groups, "
             f"{out['memberships_per_user']} memberships per user, tenant of "
             f"{out['tenant_users']} generated users, latency {out['latency_ms']:g} ms, "
             f"throttle {out['throttle_during_restore']} during the restore",
             f"{'measure':<46} {'value':>16}   goal", "-" * 80]

    def row(name: str, value: str, goal: str = "") -> None:
        lines.append(f"{name:<46} {value:>16}   {goal}")

    row("users hard-deleted", f"{out['users']:,}")
    row("groups", f"{out['groups']:,}")
    row("memberships to re-add", f"{out['memberships']:,}")
    row("plan items", f"{plan['items']:,}", ", ".join(
        f"{name} {count:,}" for name, count in sorted(plan["actions"].items())))
    row("plan: writes / lower bound it states", f"{plan['writes']['directory']:,}",
        f"{plan['estimated_seconds']:,.0f} s")
    row("planning: wall time", f"{out['plan_seconds']:.1f} s")
    row("planning: client", "", counters_text(out["plan_counters"]))
    row("execution (the steps): wall time", f"{out['execute_seconds']:.1f} s")
    row("execution: client", "", counters_text(out["execute_counters"]))
    row("minimum writes W_min", f"{minimum['total']:,}", f"{minimum['user_creates']:,} "
        f"user creates + {minimum['member_patches']:,} member PATCHes")
    row("writes measured (emulator log)", f"{log['writes']:,}", ", ".join(
        f"{kind} {count:,}" for kind, count in sorted(log["kinds"].items())))
    row("  of which answered 429 / failed otherwise", f"{log['writes_429']:,} / "
        f"{log['writes_failed']:,}")
    row("  $batch envelopes / reads", f"{log['envelopes']:,} / {log['reads']:,}")
    row("writes measured / minimum", f"{out['ratio_writes']:.3f}", ">= 1, best 1.0")
    row("429 answers (log) / by limit (emulator)", f"{log['answers_429']:,}", ", ".join(
        f"{name} {count}" for name, count in sorted(out["emulator_429s"].items()) if count))
    row("requests retried too early (emulator)", f"{out['retried_too_early']:,}")
    row("bound (W_min - 3,000) / 20 writes/s", f"{minimum['bound_seconds']:.1f} s")
    row("W_min / 20 writes/s (no burst)", f"{minimum['steady_seconds']:.1f} s")
    ratio, with_plan = out["ratio_time"], out["ratio_time_with_plan"]
    row("execution time / bound", "n/a" if ratio is None else f"{ratio:.2f}",
        f"<= {GOAL_RATIO:g}  " + ("n/a: W_min fits in the burst" if ratio is None
                                  else "met" if ratio <= GOAL_RATIO else "NOT MET"))
    row("(planning + execution) / bound", "n/a" if with_plan is None else f"{with_plan:.2f}")
    verification, vlog = out["verification"], out["verification_log"]
    found = verification["headline"]
    row("verification: wall time", f"{verification['seconds']:.1f} s")
    row("verification: client", "", counters_text(verification["counters"]))
    row("verification: GETs / $batch envelopes", f"{vlog['gets']:,} / {vlog['envelopes']:,}",
        f"{vlog['sub_requests']:,} sub-requests ({vlog['sub_gets']:,} GETs), "
        f"{vlog['writes']:,} writes")
    row("verification: requests by kind (log)", "", ", ".join(
        f"{kind} {count:,}" for kind, count in sorted(vlog["kinds"].items())))
    row("verification: in scope (objects / edges)",
        f"{found.get('objects', 0):,} / {found.get('relationships', 0):,}")
    row("verification: equal (objects / edges)",
        f"{found.get('objects_equal', 0):,} / {found.get('relationships_equal', 0):,}",
        f"{found.get('percent', 0):g} % of what is restorable")
    row("verification: fixed by the second pass", f"{found.get('fixed_objects', 0):,} / "
        f"{found.get('fixed_relationships', 0):,}", "objects / edges")
    row("verification: differences left", f"{found.get('still_different', 0):,} / "
        f"{found.get('accepted_differences', 0):,}", "unexplained / accepted")
    row("restore: plan + steps + verification", f"{out['restore_seconds']:.1f} s")
    share, bound = out["verification_share_time"], out["minimum"]["bound_seconds"]
    row("verification share of restore time", f"{100 * share:.1f} %",
        f"<= {100 * GOAL_VERIFICATION_SHARE:g} %  "
        + ("n/a: W_min fits in the burst" if not bound
           else "met" if share <= GOAL_VERIFICATION_SHARE else "NOT MET"))
    row("verification share of restore requests",
        f"{100 * out['verification_share_requests']:.1f} %", "client requests")
    report = out["report"]
    row("report", "ok" if report["ok"] else "NOT OK", ", ".join(
        f"{k} {v:,}" for k, v in report["counts"].items()))
    row("restored tenant equals the snapshot", "yes" if not out["problems"] else
        f"NO ({len(out['problems']):,})")
    for label, seconds in out["setup_seconds"].items():
        row(f"({label})", f"{seconds:.1f} s")
    return "\n".join(lines)


def failures(out: dict[str, Any]) -> list[str]:
    found = [f"failed item: {text}" for text in out["report"]["failed"]]
    if out["report"]["failed_count"] > len(found):
        found.append(f"... {out['report']['failed_count'] - len(found):,} more failed items")
    found += out["problems"][:SHOWN_FAILURES]
    if len(out["problems"]) > SHOWN_FAILURES:
        found.append(f"... {len(out['problems']) - SHOWN_FAILURES:,} more differences")
    headline = out["verification"]["headline"]
    if headline.get("ok") is not True:
        found.append(f"verification not ok: {headline.get('line', 'no verification ran')}")
        found += [f"  {line}" for line in headline.get("first_differences", ())]
    share = out["verification_share_time"]
    # The goal is set for a restore the write quota bounds (its reads are not bound by
    # it); one whose writes fit in the burst is as short as its reads.
    if out["minimum"]["bound_seconds"] and share > GOAL_VERIFICATION_SHARE:
        found.append(f"verification share of restore time {100 * share:.1f} % is over the "
                     f"{100 * GOAL_VERIFICATION_SHARE:g} % goal")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--memberships-per-user", type=int, default=2)
    parser.add_argument("--tenant-users", type=int, default=50,
                        help="users of the generated tenant the bench objects are added to")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object on stdout (progress and table on stderr)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker_main()
        return 0
    if not 1 <= args.memberships_per_user <= args.groups:
        parser.error("--memberships-per-user must be between 1 and --groups")
    with tempfile.TemporaryDirectory(prefix="bench-restore-") as temp:
        out = run(args, Path(temp))
    say(args, "\n" + table(out))
    for line in failures(out):
        say(args, line)
    if args.json:
        print(json.dumps(out, indent=2, sort_keys=True))
    return 0 if out["ok"] and not failures(out) else 1


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
