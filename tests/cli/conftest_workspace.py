"""Helpers for the CLI's end-to-end tests: ``main([...])`` run in-process against a home
folder in a temporary directory, with the environment a user would set.

Imported explicitly by the test modules that use it (it is not a pytest conftest):

* :func:`weak_passphrase_keys` makes ``init`` wrap the master key with cheap argon2
  parameters, so each command that opens the repository costs milliseconds, not a second;
* :class:`Cli` runs one command line with its own environment (``ENTRA_BACKUP_HOME``,
  ``ENTRA_BACKUP_PASSPHRASE``, the tenant's secret variable) and returns the exit code and
  what the command printed; with ``capsys`` it reads the output through pytest's capture,
  without (module-scoped set-up, where capsys does not exist) through redirection;
* assertions every test shares: the JSON of a read command, the one-line error.
"""

from __future__ import annotations

import contextlib
import io
import json
import socket
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from entra_backup.cli.main import main
from entra_backup.config import HOME_VARIABLE, PASSPHRASE_VARIABLE
from entra_backup.store.keys import passphrase
from tests.support.live_emulator import LiveEmulator

PASSPHRASE = "correct horse battery staple"
ERROR = "entra-backup: error: "
WARNING = "entra-backup: warning: "


@contextlib.contextmanager
def weak_passphrase_keys() -> Iterator[None]:
    """New passphrase keys use the test-only argon2 parameters while the context lasts.

    The workspace builds its key provider as ``PassphraseKeyProvider(passphrase)``; the
    stored key records its parameters, so opening it later needs no patch, only the
    process-wide permission to accept weak parameters.
    """
    passphrase.allow_weak_kdf_for_tests()
    real = passphrase.PassphraseKeyProvider

    def weak(secret: str, *, params: passphrase.KdfParams = passphrase.WEAK_FOR_TESTS
             ) -> passphrase.PassphraseKeyProvider:
        return real(secret, params=params)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("entra_backup.bootstrap.PassphraseKeyProvider", weak)
        yield


def patch_a_cloud_user(live: LiveEmulator, changes: dict[str, Any]) -> str:
    """Write ``changes`` to the first cloud-only user (Graph refuses them on synced
    users); its id."""
    with live.http() as graph:
        users = graph.get("users", params={"$select": "id,onPremisesSyncEnabled"}).json()
        user = next(u for u in users["value"] if u.get("onPremisesSyncEnabled") is not True)
        response = graph.patch(f"users/{user['id']}", json=changes)
        assert response.status_code == 204, response.text
        return str(user["id"])


@dataclass(frozen=True)
class Result:
    """One command line's exit code and output."""

    args: tuple[str, ...]
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return self.err.strip().splitlines()

    def json(self) -> Any:
        """stdout parsed as exactly one JSON document."""
        return json.loads(self.out)

    def __str__(self) -> str:
        return f"{' '.join(self.args)} -> {self.code}\nstdout: {self.out[:2000]}\n" \
               f"stderr: {self.err[:2000]}"


@dataclass
class Cli:
    """Run ``entra-backup`` in this process with a given environment."""

    home: Path
    env: dict[str, str | None] = field(default_factory=dict)
    capsys: pytest.CaptureFixture[str] | None = None

    @classmethod
    def for_home(cls, home: Path, secrets: Mapping[str, str] | None = None,
                 capsys: pytest.CaptureFixture[str] | None = None) -> Cli:
        env: dict[str, str | None] = {HOME_VARIABLE: str(home), PASSPHRASE_VARIABLE: PASSPHRASE}
        env.update(secrets or {})
        return cls(home, env, capsys)

    def with_env(self, **changes: str | None) -> Cli:
        """The same home with some variables changed (None unsets one)."""
        return Cli(self.home, {**self.env, **changes}, self.capsys)

    def with_capsys(self, capsys: pytest.CaptureFixture[str]) -> Cli:
        return Cli(self.home, dict(self.env), capsys)

    def run(self, *args: str) -> Result:
        with pytest.MonkeyPatch.context() as patch:
            for name, value in self.env.items():
                if value is None:
                    patch.delenv(name, raising=False)
                else:
                    patch.setenv(name, value)
            if self.capsys is not None:
                self.capsys.readouterr()
                code = main(list(args))
                captured = self.capsys.readouterr()
                out, err = captured.out, captured.err
            else:
                stdout, stderr = io.StringIO(), io.StringIO()
                with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
                    code = main(list(args))
                out, err = stdout.getvalue(), stderr.getvalue()
        return Result(tuple(args), code, out, err)

    def json(self, *args: str) -> Any:
        """A read command that must succeed silently on stderr; its one JSON document."""
        result = self.run(*args, "--json")
        assert result.code == 0, str(result)
        assert result.err == "", str(result)
        return result.json()


def assert_one_line_error(result: Result, code: int | None = None, *,
                          contains: tuple[str, ...] = ()) -> str:
    """A failure as the CLI contract wants it: non-zero, one ``error:`` line, no traceback,
    nothing on stdout. Returns the line."""
    assert result.code != 0, str(result)
    if code is not None:
        assert result.code == code, str(result)
    assert "Traceback" not in result.err, str(result)
    assert len(result.err_lines) == 1, str(result)
    line = result.err_lines[0]
    assert line.startswith(ERROR), str(result)
    assert result.out == "", str(result)
    for text in contains:
        assert text in line, (text, line)
    return line


def tenant_add_args(live: LiveEmulator, name: str, secret_variable: str, *,
                    client_id: str | None = None, tenant_id: str | None = None,
                    authority: str | None = None, graph_url: str | None = None
                    ) -> list[str]:
    """``tenant add`` for the emulator's tenant, over HTTPS trusting its CA."""
    return ["tenant", "add", name, "--tenant-id", tenant_id or live.tenant_id,
            "--client-id", client_id or live.client_id, "--client-secret-env", secret_variable,
            "--authority", authority or live.authority, "--graph-url", graph_url or live.graph_url,
            "--ca-bundle", live.ca_bundle]


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def tree(path: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``path`` with its size and modification time, to prove it unchanged."""
    return {str(item.relative_to(path)): (item.stat().st_size, item.stat().st_mtime_ns)
            for item in sorted(path.rglob("*")) if item.is_file()}
