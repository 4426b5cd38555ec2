"""Start a throwaway PostgreSQL server from the installed binaries, on loopback.

The cluster lives in a temporary directory, listens on a free 127.0.0.1 port and puts
its Unix socket there too. PostgreSQL refuses to run as root, so when the tests run as
root the cluster belongs to an unprivileged account and the server runs as that user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
_UNPRIVILEGED = ("postgres", "nobody")


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server binaries are not installed or the server did not start."""


@dataclass(frozen=True)
class PostgresServer:
    """A running server and one database created for the tests."""

    port: int
    user: str
    database: str

    def url(self, database: str | None = None) -> str:
        """A SQLAlchemy URL (psycopg 3 driver) for a database of this server."""
        return f"postgresql+psycopg://{self.user}@{HOST}:{self.port}/{database or self.database}"


def find_binaries() -> Path:
    """The directory holding initdb and pg_ctl, or PostgresUnavailable."""
    candidates = [os.environ.get("PG_BINDIR", "")]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(str(Path(initdb).resolve().parent))
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").exists() and (
                Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    raise PostgresUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: install them with "
        "'apt-get install -y postgresql' (make test does this) or set PG_BINDIR"
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _run_as() -> pwd.struct_passwd | None:
    if os.geteuid() != 0:
        return None
    for name in _UNPRIVILEGED:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise PostgresUnavailable("running as root, and no unprivileged account to run PostgreSQL")


def _run(command: Sequence[str], account: pwd.struct_passwd | None) -> None:
    identity = {} if account is None else {"user": account.pw_uid, "group": account.pw_gid,
                                           "extra_groups": []}
    result = subprocess.run(list(command), capture_output=True, text=True, check=False,
                            env={**os.environ, "LC_ALL": "C.UTF-8"}, cwd="/", **identity)
    if result.returncode != 0:
        raise PostgresUnavailable(f"{Path(command[0]).name} failed: {result.stderr.strip()}")


@contextmanager
def running_postgres(database: str = "catalog") -> Iterator[PostgresServer]:
    """Run a fresh cluster until the block ends, then stop it and delete its files."""
    bindir = find_binaries()
    account = _run_as()
    # Directly under the system temp dir: the server's account must reach it, and pytest's
    # own temporary directories are private to the user running the tests.
    workdir = Path(tempfile.mkdtemp(prefix="entra-pg-"))
    try:
        with _cluster(bindir, account, workdir, database) as server:
            yield server
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def _cluster(bindir: Path, account: pwd.struct_passwd | None, workdir: Path,
             database: str) -> Iterator[PostgresServer]:
    data, sockets = workdir / "data", workdir / "run"
    sockets.mkdir(parents=True)
    if account is not None:
        for path in (workdir, sockets):
            os.chown(path, account.pw_uid, account.pw_gid)
    user = "entra"
    _run([str(bindir / "initdb"), "-D", str(data), "-U", user, "--auth=trust",
          "--encoding=UTF8", "--no-sync"], account)
    port = _free_port()
    options = f"-h {HOST} -p {port} -k {sockets} -F -c fsync=off"
    _run([str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l",
          str(workdir / "server.log"), "-w", "-t", "30", "start"], account)
    try:
        _run([str(bindir / "createdb"), "-h", HOST, "-p", str(port), "-U", user, database],
             account)
        yield PostgresServer(port=port, user=user, database=database)
    finally:
        _run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
             account)
