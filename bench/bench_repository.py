"""Benchmark the snapshot repository: write, read back, and an incremental snapshot.

Stores N user-like JSON documents (about 2 KB each in canonical form) in a fresh
repository on local disk, reads them all back in id order, then writes a second snapshot
in which 1% of the documents changed. Prints objects per second, peak memory (the
process's maximum resident set), bytes stored per object, and the second snapshot's added
bytes as a share of the first's.

    python bench/bench_repository.py                 # one million documents
    python bench/bench_repository.py --objects 20000 --profile
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from entra_backup.store.backends.local import LocalBackend
from entra_backup.store.keys.keyfile import KeyFileProvider
from entra_backup.store.repository import Repository
from entra_backup.store.stats import total_file_bytes

_DEPARTMENTS = ["Sales", "Finance", "Engineering", "Support", "Legal", "Marketing", "HR"]
_TITLES = ["Manager", "Engineer", "Analyst", "Director", "Specialist", "Consultant"]
_CITIES = ["Oslo", "Lisbon", "Seattle", "Dublin", "Singapore", "Sydney", "Toronto"]
_SKUS = [str(uuid.UUID(int=sku * 7919)) for sku in range(1, 12)]


def object_id(number: int) -> str:
    """A stable GUID for document ``number`` (ids are not in insertion order)."""
    return str(uuid.uuid5(uuid.NAMESPACE_OID, f"user-{number}"))


_POOL_SIZE = 4096
_pool: list[dict[str, Any]] = []


def document(number: int, version: int = 0) -> dict[str, Any]:
    """A user document of about 2 KB: a varied template with this user's own identifiers.

    Templates come from a pool of randomly generated users, so that generating a million
    documents costs little next to storing them; the fields that identify a user (and
    ``version``, for changed documents) are made unique per document.
    """
    if not _pool:
        _pool.extend(_template(seed) for seed in range(_POOL_SIZE))
    result = dict(_pool[number % _POOL_SIZE])
    alias = f"{result['mailNickname']}{number}"
    result["id"] = object_id(number)
    result["userPrincipalName"] = result["mail"] = f"{alias}@contoso.example"
    result["employeeId"] = str(100000 + number)
    result["otherMails"] = [f"{alias}.{version}@fabrikam.example"]
    result["securityIdentifier"] = f"S-1-12-1-{number * 7919 % 2**32}-{number}-{version}"
    return result


def _template(number: int) -> dict[str, Any]:
    """One randomly generated user (the slow, realistic part)."""
    version = 0
    rng = random.Random(number)
    first = f"Given{rng.randrange(5000)}"
    last = f"Family{rng.randrange(20000)}"
    alias = f"{first}.{last}{number}".lower()
    return {
        "id": object_id(number),
        "accountEnabled": rng.random() > 0.05,
        "displayName": f"{first} {last}",
        "givenName": first,
        "surname": last,
        "userPrincipalName": f"{alias}@contoso.example",
        "mail": f"{alias}@contoso.example",
        "mailNickname": alias,
        "jobTitle": rng.choice(_TITLES),
        "department": rng.choice(_DEPARTMENTS),
        "companyName": "Contoso Ltd",
        "employeeId": str(100000 + number),
        "city": rng.choice(_CITIES),
        "country": "NO",
        "officeLocation": f"Building {rng.randrange(40)}, floor {rng.randrange(12)}",
        "mobilePhone": f"+47 {rng.randrange(10**7, 10**8)}",
        "businessPhones": [f"+47 {rng.randrange(10**7, 10**8)}"],
        "usageLocation": "NO",
        "preferredLanguage": "en-US",
        "userType": "Member",
        "createdDateTime": f"20{rng.randrange(10, 25)}-0{rng.randrange(1, 10)}-1"
                           f"{rng.randrange(10)}T{rng.randrange(10, 24)}:"
                           f"{rng.randrange(10, 60)}:00Z",
        "lastPasswordChangeDateTime": f"2025-0{rng.randrange(1, 10)}-2"
                                      f"{rng.randrange(10)}T08:00:00Z",
        "proxyAddresses": [f"SMTP:{alias}@contoso.example", f"smtp:{alias}@contoso.mail.example"],
        "otherMails": [f"{alias}.{version}@fabrikam.example"],
        "assignedLicenses": [
            {
                "disabledPlans": [str(uuid.UUID(int=rng.getrandbits(128)))],
                "skuId": rng.choice(_SKUS),
            }
            for _ in range(rng.randrange(1, 4))
        ],
        "onPremisesExtensionAttributes": {
            f"extensionAttribute{i}": f"value-{rng.randrange(1000)}" if rng.random() < 0.5 else None
            for i in range(1, 16)
        },
        "onPremisesSyncEnabled": None,
        "onPremisesImmutableId": None,
        "securityIdentifier": f"S-1-12-1-{rng.getrandbits(32)}-{rng.getrandbits(32)}"
                              f"-{rng.getrandbits(32)}-{rng.getrandbits(32)}",
        "identities": [{"signInType": "userPrincipalName", "issuer": "contoso.example",
                        "issuerAssignedId": f"{alias}@contoso.example"}],
        "passwordPolicies": "DisablePasswordExpiration" if rng.random() < 0.2 else None,
        "ageGroup": None,
        "streetAddress": f"{rng.randrange(1, 300)} {rng.choice(_CITIES)} Street",
        "postalCode": str(rng.randrange(1000, 9999)),
        "state": None,
        "faxNumber": None,
        "employeeHireDate": f"20{rng.randrange(10, 25)}-01-01T00:00:00Z",
        "employeeType": rng.choice(["Employee", "Contractor", None]),
        "showInAddressList": None,
        "signInSessionsValidFromDateTime": f"2025-{rng.randrange(10, 13)}-01T00:00:00Z",
        "aboutMe": f"Works on project {rng.randrange(100)} with team {rng.randrange(50)}. " * 4,
    }


def peak_mib() -> float:
    """The process's peak resident memory so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(label: str, action: Callable[[], int], profile: bool) -> tuple[float, int]:
    """Run ``action`` (returning an object count); print and return seconds and count."""
    profiler = cProfile.Profile() if profile else None
    start = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    count = action()
    if profiler is not None:
        profiler.disable()
    seconds = time.perf_counter() - start
    print(f"{label}: {count:,} objects in {seconds:.1f} s = {count / seconds:,.0f} objects/s, "
          f"peak memory so far {peak_mib():.0f} MiB")
    if profiler is not None:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(14)
        print(out.getvalue())
    return seconds, count


def write_snapshot(repo: Repository, count: int, changed: set[int]) -> Callable[[], int]:
    """An action storing ``count`` documents, ``changed`` ones in a new version."""
    def action() -> int:
        with repo.writer("bench-tenant") as writer:
            for number in range(count):
                writer.add("users", object_id(number), document(number, int(number in changed)))
            writer.commit()
        return count
    return action


def read_all(repo: Repository, order: Literal["id", "storage"]) -> int:
    """Read every document of the latest snapshot back."""
    snapshot = repo.load_snapshot("latest")
    count = 0
    for _ in repo.objects(snapshot, "users", order=order):
        count += 1
    return count


def generation_rate(count: int) -> float:
    """Documents per second the generator alone produces (to subtract its cost)."""
    sample = min(count, 5000)
    start = time.perf_counter()
    for number in range(sample):
        document(number)
    return sample / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--objects", type=int, default=1_000_000)
    parser.add_argument("--change", type=float, default=0.01, help="share changed in snapshot 2")
    parser.add_argument("--profile", action="store_true", help="print where the time goes")
    parser.add_argument("--dir", type=Path, default=None, help="where to create the repository")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=args.dir) as scratch:
        run(Path(scratch), args.objects, args.change, args.profile)
    return 0


def run(scratch: Path, count: int, change: float, profile: bool) -> None:
    """Write, read, write again, and print the figures."""
    backend = LocalBackend(str(scratch / "repo"))
    repo = Repository.init(backend, KeyFileProvider.generate(scratch / "key"))
    sample = canonical_size(count)
    print(f"{count:,} documents of about {sample:,} bytes (canonical JSON); "
          f"generator alone: {generation_rate(count):,.0f} documents/s")
    generation = count / generation_rate(count)
    write_seconds, _ = timed("write snapshot 1", write_snapshot(repo, count, set()), profile)
    print(f"  of which generating documents: about {generation:.1f} s; the repository alone: "
          f"{count / (write_seconds - generation):,.0f} objects/s (goal: 20,000)")
    first_bytes = total_file_bytes(backend)
    print(f"stored: {first_bytes / 2**20:,.1f} MiB = {first_bytes / count:,.0f} bytes per object "
          f"({sample * count / first_bytes:.2f}x smaller than canonical JSON)")
    timed("read snapshot 1 back in storage order", lambda: read_all(repo, "storage"), profile)
    timed("read snapshot 1 back in id order (goal: 30,000/s)", lambda: read_all(repo, "id"),
          profile)
    changed = set(random.Random(7).sample(range(count), int(count * change)))
    second, _ = timed(f"write snapshot 2 ({len(changed):,} changed)",
                      write_snapshot(repo, count, changed), profile)
    print(f"  the repository alone: {count / (second - generation):,.0f} objects/s")
    added = total_file_bytes(backend) - first_bytes
    print(f"snapshot 2 added {added / 2**20:,.2f} MiB = {100 * added / first_bytes:.2f}% of "
          f"snapshot 1's stored bytes (goal: at most 2%)")
    print(f"peak memory of the whole run: {peak_mib():.0f} MiB (goal: under 300 MiB)")


def canonical_size(count: int) -> int:
    """Mean canonical size of a sample of documents."""
    from entra_backup.domain.canonical import canonical_bytes  # noqa: PLC0415

    sample = [len(canonical_bytes(document(n))) for n in range(min(count, 200))]
    return sum(sample) // len(sample)


if __name__ == "__main__":
    sys.exit(main())
