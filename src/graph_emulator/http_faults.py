"""The HTTP side of fault injection: dropped connections and slow answers.

:class:`HttpFaults` wraps the ASGI application. When a response carries
``x-emulator-drop`` it aborts the connection without sending a byte (the client sees the
server disconnect without a response); when it carries ``x-emulator-delay-ms`` it waits
that long, then sends the response without the header.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from graph_emulator.faults import DELAY_HEADER, DROP_HEADER

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Sleep = Callable[[float], Awaitable[None]]

_DROP = DROP_HEADER.encode()
_DELAY = DELAY_HEADER.encode()


class ConnectionDropped(ConnectionError):
    """Raised to the server when it gives no way to abort the connection itself."""


class HttpFaults:
    """ASGI middleware carrying out the transport faults the fault gate decided."""

    def __init__(self, app: ASGIApp, sleep: Sleep = asyncio.sleep) -> None:
        self.app = app
        self.sleep = sleep
        self.dropped = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        dropping = False

        async def faulty_send(message: Message) -> None:
            nonlocal dropping
            if dropping:
                return
            if message.get("type") == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                if _DROP in names:
                    dropping = True
                    self.dropped += 1
                    await _abort(send)
                    return
                if _DELAY in names:
                    await self.sleep(_delay_seconds(headers))
                message["headers"] = [(n, v) for n, v in headers if n.lower() != _DELAY]
            await send(message)

        await self.app(scope, receive, faulty_send)


def _delay_seconds(headers: list[tuple[bytes, bytes]]) -> float:
    for name, value in headers:
        if name.lower() == _DELAY:
            try:
                return max(0.0, float(value.decode()) / 1000.0)
            except ValueError:
                return 0.0
    return 0.0


async def _abort(send: Send) -> None:
    # uvicorn's send is a method of the request cycle, which holds the transport: abort it
    # so the client gets no response at all, then let uvicorn notice the disconnect
    # before the app returns (it would otherwise answer 500 on a closed connection).
    cycle: Any = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if cycle is None or transport is None or not hasattr(transport, "abort"):
        raise ConnectionDropped("fault injection dropped the connection")
    transport.abort()
    for _ in range(100):
        if getattr(cycle, "disconnected", True):
            return
        await asyncio.sleep(0)
    # uvicorn notices only when connection_lost runs; mark it ourselves if it has not.
    cycle.disconnected = True
