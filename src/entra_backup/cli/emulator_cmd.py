"""``entra-backup emulator``: serve the Graph-compatible emulator over HTTPS."""

from __future__ import annotations

import sys
from pathlib import Path

import orjson
import typer

from entra_backup.domain.errors import UsageError

app = typer.Typer(help="The Graph-compatible emulator of Entra ID.", no_args_is_help=True)


@app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", help="Loopback address to listen on."),
    port: int = typer.Option(0, help="Port to listen on; 0 picks a free one."),
    users: int = typer.Option(200, help="Users in the generated tenant."),
    seed: int = typer.Option(1, help="Seed of the tenant generator and of fault injection."),
    latency_ms: float = typer.Option(0.0, "--latency-ms", help="Delay added to each Graph call."),
    throttle: str = typer.Option("real", help="Throttling: 'real' (documented limits) or 'off'."),
    fault_rate: float = typer.Option(0.0, "--fault-rate",
                                     help="Share of Graph calls failed with 429/5xx (0 to 1)."),
    state_dir: Path = typer.Option(Path(".emulator"), "--state-dir",
                                   help="Where the CA bundle and saved state are kept."),
) -> None:
    """Start the emulator; the first line printed is its connection details as JSON."""
    from graph_emulator.identity import CertificateError
    from graph_emulator.runtime import Options, Runtime
    from graph_emulator.server import ServerError

    options = Options(host=host, port=port, users=users, seed=seed, latency_ms=latency_ms,
                      throttle=throttle, fault_rate=fault_rate, state_dir=state_dir.resolve())
    try:
        options.validate()
        runtime = Runtime(options)
        server = runtime.listen()
    except (ValueError, ServerError, CertificateError) as exc:
        raise UsageError(str(exc)) from exc
    try:
        sys.stdout.write(orjson.dumps(runtime.connection_info()).decode() + "\n")
        sys.stdout.flush()
        server.serve_forever()
    except KeyboardInterrupt:
        pass
