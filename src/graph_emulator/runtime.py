"""Composition of a running emulator: clock, identity, Graph pipeline, gates, tenants.

``Runtime`` is what ``entra-backup emulator serve``, the tests and the benchmarks start;
the control endpoint steers it.
"""

from __future__ import annotations

import pickle
import random
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graph_emulator import identity
from graph_emulator.app import create_app
from graph_emulator.clock import Clock
from graph_emulator.control import ControlError, control_routes
from graph_emulator.emulator import Emulator
from graph_emulator.gates import install as install_gates
from graph_emulator.generator import TenantSpec, TenantSummary, generate_tenant
from graph_emulator.handlers.delta import reset_delta_tokens
from graph_emulator.handlers.writes import write_state
from graph_emulator.http_faults import HttpFaults
from graph_emulator.model.kinds import KINDS
from graph_emulator.model.loader import DirectoryLoader
from graph_emulator.routes import build_router
from graph_emulator.server import HttpsServer, TlsFiles, bind, check_loopback
from graph_emulator.tenant import Tenant

MAX_USERS = 1_000_000


@dataclass
class Options:
    """How to start the emulator (the ``emulator serve`` flags)."""

    host: str = "127.0.0.1"
    port: int = 0
    users: int = 200
    seed: int = 1
    latency_ms: float = 0.0
    throttle: str = "real"
    fault_rate: float = 0.0
    state_dir: Path = field(default_factory=lambda: Path.cwd() / ".emulator")

    def validate(self) -> None:
        """Refuse out-of-range values with a message naming the flag."""
        check_loopback(self.host)
        if not 0 <= self.port <= 65535:
            raise ValueError(f"--port must be between 0 and 65535, not {self.port}")
        if not 1 <= self.users <= MAX_USERS:
            raise ValueError(f"--users must be between 1 and {MAX_USERS:,}, not {self.users}")
        if self.latency_ms < 0 or self.latency_ms > 60_000:
            raise ValueError(f"--latency-ms must be between 0 and 60000, not {self.latency_ms}")
        if self.throttle not in ("off", "real"):
            raise ValueError(f"--throttle must be 'off' or 'real', not {self.throttle!r}")
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError(f"--fault-rate must be between 0 and 1, not {self.fault_rate}")


class Runtime:
    """A complete emulator: build it, then ``listen()`` or ``start()`` it."""

    def __init__(self, options: Options) -> None:
        options.validate()
        self.options = options
        self.clock = Clock()
        self.identity = identity.IdentityService(self.clock)
        self.emulator = Emulator(self.clock, self.identity, build_router())
        self.emulator.latency_ms = options.latency_ms
        self.gates = install_gates(self.emulator, throttle=options.throttle,
                                   fault_rate=options.fault_rate, seed=options.seed)
        self.control_token = secrets.token_urlsafe(16)
        self.base_url = ""
        self.ca_bundle = ""
        self._checkpoints: dict[str, bytes] = {}
        self._server: HttpsServer | None = None
        self.summary = self.create_tenant(options.users, options.seed, "contoso")
        self.tenant_id = self.summary.tenant_id
        self.client_id, self.client_secret = self.create_app(
            self.tenant_id, "Entra Backup (demo)", identity.PRODUCT_PERMISSIONS
        )
        self._initial_identity = self.identity.export_state()

    # --- tenants and apps ------------------------------------------------------------

    def create_tenant(self, users: int, seed: int, name: str) -> TenantSummary:
        """Generate a tenant into the emulator and register it with the identity side."""
        tenant_id = str(uuid.UUID(int=random.Random(f"tenant:{seed}:{name}").getrandbits(128),
                                  version=4))
        if tenant_id in self.emulator.tenants:
            raise ControlError(f"a tenant named {name!r} with seed {seed} exists already")
        tenant = self.emulator.add_tenant(Tenant(tenant_id, name))
        summary = self._populate(tenant, users, seed)
        self.identity.registry.add_tenant(name, tenant_id=tenant_id,
                                          domains=tenant.verified_domains())
        return summary

    @staticmethod
    def _populate(tenant: Tenant, users: int, seed: int) -> TenantSummary:
        spec = TenantSpec(users=users, seed=seed, tenant_id=tenant.tenant_id,
                          tenant_name=tenant.name)
        tenant.directory.begin_load()
        summary = generate_tenant(DirectoryLoader(tenant.directory), spec)
        tenant.directory.end_load()
        return summary

    def create_app(self, tenant_id: str, display_name: str, permissions: Iterable[str],
                   certificate_pem: str | None = None) -> tuple[str, str]:
        """Register an app with the given application permissions; (client id, secret)."""
        registry = self.identity.registry
        app = registry.add_app(tenant_id, display_name, permissions)
        secret = registry.add_secret(app)
        if certificate_pem:
            registry.add_certificate(app, certificate_pem)
        return app.client_id, secret

    def create_tenant_from_control(self, body: dict[str, Any]) -> dict[str, Any]:
        users = int(body.get("users", 50))
        if not 1 <= users <= MAX_USERS:
            raise ControlError(f"'users' must be between 1 and {MAX_USERS}")
        summary = self.create_tenant(users, int(body.get("seed", 1)),
                                     str(body.get("name", "fabrikam")))
        client_id, secret = self.create_app(
            summary.tenant_id, "Entra Backup", identity.PRODUCT_PERMISSIONS)
        return {**self.connection_info(), "tenant_id": summary.tenant_id,
                "authority": f"{self.base_url}/{summary.tenant_id}",
                "client_id": client_id, "client_secret": secret}

    def create_app_from_control(self, body: dict[str, Any]) -> dict[str, Any]:
        tenant_id = str(body.get("tenant_id") or self.tenant_id)
        if tenant_id not in self.emulator.tenants:
            raise ControlError(f"no tenant {tenant_id}")
        permissions = body.get("permissions", [])
        if not isinstance(permissions, list) or not all(isinstance(p, str) for p in permissions):
            raise ControlError("'permissions' must be a list of permission names")
        pem = body.get("certificate_pem")
        client_id, secret = self.create_app(
            tenant_id, str(body.get("display_name", "app")), permissions,
            certificate_pem=str(pem) if pem else None,
        )
        return {"tenant_id": tenant_id, "client_id": client_id, "client_secret": secret}

    # --- faults and settings -----------------------------------------------------------

    def configure_faults(self, body: dict[str, Any]) -> None:
        self.gates.configure(body)

    def settings(self) -> dict[str, Any]:
        lag = write_state(self.emulator).replication_lag
        return {"latency_ms": self.emulator.latency_ms, "replication_lag_seconds": lag,
                **self.gates.settings()}

    def reset_throttle(self) -> dict[str, Any]:
        """Refill every throttling budget, as a new app in a rested tenant would find them.

        Set-up writes of a benchmark must not eat the quota of the run it measures. The 429
        and early-retry counters are kept: they count over the emulator's life.
        """
        self.gates.throttle.reset()
        return self.settings()

    def reset_delta(self, tenant_id: str) -> dict[str, Any]:
        reset_delta_tokens(self.emulator, tenant_id or self.tenant_id)
        return {"reset": tenant_id or self.tenant_id}

    def holdings(self) -> dict[str, int]:
        """Objects per kind in the default tenant."""
        directory = self.emulator.tenants[self.tenant_id].directory
        return {kind: directory.count(kind) for kind in KINDS if directory.count(kind)}

    # --- state -------------------------------------------------------------------------

    def _state(self) -> bytes:
        return pickle.dumps((self.emulator.tenants, self.identity.export_state()))

    def _apply(self, blob: bytes) -> None:
        # Only checkpoints and files this emulator wrote itself are ever unpickled.
        tenants, identity_state = pickle.loads(blob)
        self.emulator.tenants = tenants
        self.identity.import_state(identity_state)

    def checkpoint(self, name: str) -> dict[str, Any]:
        """Remember the whole state in memory under ``name``."""
        self._checkpoints[name] = self._state()
        return {"checkpoint": name}

    def reset(self) -> dict[str, Any]:
        """Return to the state right after start, regenerating the tenant from its seed.

        Regenerating costs what the start cost; keeping a copy of a large tenant from
        the start would double the emulator's memory for a rarely used call.
        """
        self.emulator.tenants = {}
        self.identity.import_state(self._initial_identity)
        tenant = self.emulator.add_tenant(Tenant(self.tenant_id, "contoso"))
        self._populate(tenant, self.options.users, self.options.seed)
        return {"reset": self.tenant_id}

    def rollback(self, name: str) -> dict[str, Any]:
        """Return to a checkpoint taken earlier."""
        if name not in self._checkpoints:
            raise ControlError(f"no checkpoint named {name!r}")
        self._apply(self._checkpoints[name])
        return {"rolled_back_to": name}

    def save(self, path: str) -> dict[str, Any]:
        """Write the state to a file (only load files this emulator wrote)."""
        target = Path(path)
        temporary = target.with_suffix(target.suffix + ".tmp")
        temporary.write_bytes(self._state())
        temporary.replace(target)
        return {"saved": str(target)}

    def load(self, path: str) -> dict[str, Any]:
        """Replace the state with one saved by :meth:`save`."""
        source = Path(path)
        if not source.is_file():
            raise ControlError(f"no saved state at {source}")
        self._apply(source.read_bytes())
        return {"loaded": str(source)}

    # --- serving -----------------------------------------------------------------------

    def listen(self) -> HttpsServer:
        """Bind the socket and prepare the HTTPS server (serve it with serve_forever)."""
        material = identity.ensure_tls_files(self.options.state_dir)
        tls = TlsFiles(material.certificate, material.key, material.ca_bundle)
        sock = bind(self.options.host, self.options.port)
        host = self.options.host if ":" not in self.options.host else f"[{self.options.host}]"
        self.base_url = f"https://{host}:{sock.getsockname()[1]}"
        self.ca_bundle = str(tls.ca_bundle)
        prefix = f"/_control/{self.control_token}"
        routes = [*identity.identity_routes(self.identity), *control_routes(self, prefix)]
        self._server = HttpsServer(HttpFaults(create_app(self.emulator, routes)), sock, tls)
        return self._server

    def start(self) -> None:
        """Listen and serve in a background thread."""
        self.listen().start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()

    def connection_info(self) -> dict[str, str]:
        """The first line ``emulator serve`` prints, as the CLI contract defines it."""
        return {
            "graph_url": f"{self.base_url}/v1.0",
            "authority": f"{self.base_url}/{self.tenant_id}",
            "tenant_id": self.tenant_id,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "ca_bundle": self.ca_bundle,
            "control_url": f"{self.base_url}/_control/{self.control_token}",
        }
