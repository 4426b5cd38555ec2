"""The ASGI application: identity endpoints, Graph under ``/v1.0``, control under ``/_control``."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from graph_emulator.emulator import Emulator
from graph_emulator.protocol import JSON_CONTENT_TYPE, GraphRequest

GRAPH_PREFIX = "/v1.0"
METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE"]


def graph_request(request: Request, body: bytes) -> GraphRequest:
    """The Graph view of an HTTPS request below ``/v1.0``."""
    base = f"{request.url.scheme}://{request.url.netloc}{GRAPH_PREFIX}"
    path = request.url.path[len(GRAPH_PREFIX):] or "/"
    headers = {k.lower(): v for k, v in request.headers.items()}
    return GraphRequest(request.method, path, dict(request.query_params), headers, body, base)


def http_response(status: int, body: bytes, headers: dict[str, str]) -> Response:
    """Encode a Graph response with the content type Graph uses."""
    content_type = headers.pop("content-type", JSON_CONTENT_TYPE if body else "")
    response = Response(body, status_code=status, headers=headers)
    if content_type:
        response.headers["content-type"] = content_type
    return response


def create_app(emulator: Emulator, extra_routes: Sequence[BaseRoute] = ()) -> Starlette:
    """The emulator's web application."""

    async def graph(request: Request) -> Response:
        body = await request.body()
        delay = emulator.latency_seconds()
        if delay > 0:
            await asyncio.sleep(delay)
        served = emulator.dispatch(graph_request(request, body))
        encoded = served.encoded()
        if served.headers.get("content-type") == "text/plain":
            encoded = str(served.body).encode()
        return http_response(served.status, encoded, dict(served.headers))

    routes: list[BaseRoute] = [
        *extra_routes,
        Route(GRAPH_PREFIX + "/{path:path}", graph, methods=METHODS),
    ]
    return Starlette(routes=routes)
