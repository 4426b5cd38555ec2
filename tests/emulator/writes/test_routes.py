"""Every route this package adds is one Microsoft documents for v1.0.

The endpoint list (Dev Proxy's database) holds navigable paths; actions such as
``addPassword`` and per-target ``$ref`` deletes are matched against the request URLs of
Microsoft's documentation examples instead (an example on ``/me`` stands for
``/users/{id}``).
"""

from __future__ import annotations

import re

from graph_emulator.handlers.writes import register
from graph_emulator.routing import Router
from tests.reference import DOC_EXAMPLES, ENDPOINTS, graph_json, graph_sqlite


def _placeholders(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "*", path)


def _documented() -> set[str]:
    db = graph_sqlite(ENDPOINTS)
    try:
        paths = {_placeholders(row[0]) for row in db.execute(
            "SELECT path FROM endpoints WHERE graphVersion = 'v1.0'")}
    finally:
        db.close()
    mocks = graph_json(DOC_EXAMPLES)["mocks"]
    for mock in mocks:
        url = mock["request"]["url"]
        if "/v1.0/" in url:
            paths.add("/" + url.split("/v1.0/", 1)[1].split("?", 1)[0])
    # Examples often call an action on /me, the signed-in user: /users/{id} for an app.
    paths |= {"/users/*/" + p.removeprefix("/me/") for p in paths if p.startswith("/me/")}
    return {p.lower() for p in paths}


def test_every_write_route_is_documented() -> None:
    router = Router()
    register(router)
    documented = _documented()
    missing = []
    for route in router.describe():
        path = _placeholders(route["path"].removeprefix("/v1.0")).lower()
        candidates = {path, path.replace("microsoft.graph.", "graph."),
                      path.replace("/microsoft.graph.getbyids", "/getbyids")}
        if not candidates & documented:
            missing.append(route["path"])
    assert missing == []
