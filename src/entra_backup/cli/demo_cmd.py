"""``entra-backup demo``: the emulator with a realistic tenant, and what to try next."""

from __future__ import annotations

from pathlib import Path

import orjson
import typer
from rich.console import Console
from rich.table import Table

from entra_backup.domain.errors import UsageError


def demo(
    users: int = typer.Option(300, help="Users in the demo tenant."),
    seed: int = typer.Option(7, help="Seed of the tenant generator."),
    port: int = typer.Option(0, help="Port to listen on; 0 picks a free one."),
    home: Path = typer.Option(Path(".demo-home"), help="Where the demo keeps its files."),
) -> None:
    """Serve an emulated tenant over HTTPS and show how to reach it (Ctrl+C stops it)."""
    from graph_emulator.runtime import Options, Runtime
    from graph_emulator.server import ServerError

    console = Console()
    options = Options(users=users, seed=seed, port=port,
                      state_dir=(home / "emulator").resolve())
    try:
        options.validate()
        with console.status("Generating the tenant and starting the emulator..."):
            runtime = Runtime(options)
            server = runtime.listen()
    except (ValueError, ServerError) as exc:
        raise UsageError(str(exc)) from exc
    info = runtime.connection_info()
    try:
        console.print(orjson.dumps(info).decode(), soft_wrap=True, markup=False,
                      highlight=False)
        console.print(_holdings(runtime.holdings()))
        console.print(_next_steps(info), soft_wrap=True, markup=False, highlight=False)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    console.print("Emulator stopped.")


def _holdings(counts: dict[str, int]) -> Table:
    table = Table(title="The emulated tenant holds")
    table.add_column("kind")
    table.add_column("objects", justify="right")
    for kind, count in counts.items():
        table.add_row(kind, f"{count:,}")
    return table


def _next_steps(info: dict[str, str]) -> str:
    ca = info["ca_bundle"]
    return (
        f"\nGraph:     {info['graph_url']}\n"
        f"Authority: {info['authority']}\n"
        f"CA bundle: {ca}\n\n"
        "Get a token (client credentials), then call Graph with it:\n"
        f"  TOKEN=$(curl -s --cacert {ca} {info['authority']}/oauth2/v2.0/token "
        f"-d grant_type=client_credentials -d client_id={info['client_id']} "
        f"--data-urlencode client_secret='{info['client_secret']}' "
        "-d scope=https://graph.microsoft.com/.default | python3 -c "
        "'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')\n"
        f"  curl -s --cacert {ca} -H \"Authorization: Bearer $TOKEN\" "
        f"'{info['graph_url']}/users?$top=5&$select=displayName,userPrincipalName'\n\n"
        "Serving until Ctrl+C."
    )
