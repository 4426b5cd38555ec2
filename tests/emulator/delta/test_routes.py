"""Every delta route the emulator serves is one Microsoft's v1.0 endpoint list names."""

from __future__ import annotations

from graph_emulator.routes import build_router
from tests.reference import ENDPOINTS, graph_sqlite


def test_delta_routes_are_in_the_endpoint_list() -> None:
    db = graph_sqlite(ENDPOINTS)
    try:
        known = {row[0] for row in db.execute(
            "SELECT path FROM endpoints WHERE graphVersion = 'v1.0'")}
    finally:
        db.close()
    served = {route["path"].removeprefix("/v1.0") for route in build_router().describe()}
    delta = {path for path in served if path.rsplit("/", 1)[-1].endswith(("delta", "delta()"))}
    canonical = {path.replace("microsoft.graph.", "").removesuffix("()") + "()"
                 for path in delta}
    assert len(canonical) == 8
    assert canonical <= known
