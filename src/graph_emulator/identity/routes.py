"""Starlette routes of the identity platform: discovery, keys and the token endpoint."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from graph_emulator.identity import sts_errors
from graph_emulator.identity.service import IdentityService

JSON = "application/json; charset=utf-8"


def identity_routes(service: IdentityService) -> list[Route]:
    """The routes MSAL and azure-identity call, for a Starlette app on the emulator's host."""

    async def configuration(request: Request) -> Response:
        status, body = service.discovery(request.path_params["tenant"], _base_url(request),
                                         _correlation(request))
        return _json(request, status, body)

    async def keys(request: Request) -> Response:
        status, body = service.keys(request.path_params["tenant"], _base_url(request),
                                    _correlation(request))
        return _json(request, status, body)

    async def token(request: Request) -> Response:
        if request.method != "POST":
            error = sts_errors.post_only(request.method)
            return _json(request, error.status,
                         error.body(service.clock.now(), _correlation(request)))
        form = dict(parse_qsl((await request.body()).decode("utf-8", errors="replace"),
                              keep_blank_values=True))
        status, body = service.token(
            request.path_params["tenant"], form, base_url=_base_url(request),
            authorization=request.headers.get("authorization"),
            correlation_id=_correlation(request))
        return _json(request, status, body)

    return [
        Route("/{tenant}/v2.0/.well-known/openid-configuration", configuration, methods=["GET"]),
        Route("/{tenant}/discovery/v2.0/keys", keys, methods=["GET"]),
        Route("/{tenant}/discovery/keys", keys, methods=["GET"]),
        Route("/{tenant}/oauth2/v2.0/token", token, methods=["GET", "POST"]),
    ]


def _base_url(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def _correlation(request: Request) -> str | None:
    return request.headers.get("client-request-id")


def _json(request: Request, status: int, body: dict[str, Any]) -> Response:
    headers = {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"}
    if correlation := _correlation(request):
        headers["client-request-id"] = correlation
    return Response(orjson.dumps(body), status_code=status, media_type=JSON, headers=headers)
