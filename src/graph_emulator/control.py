"""The control endpoint (emulator only, outside ``/v1.0``): what tests and benchmarks steer.

It lives under a secret path (``/_control/<token>``) printed in the emulator's first
line, so only whoever started the emulator can steer it. Every call answers JSON.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from graph_emulator.clock import iso
from graph_emulator.handlers.writes import set_replication_lag

if TYPE_CHECKING:
    from graph_emulator.runtime import Runtime

Endpoint = Callable[[Request], Awaitable[Response]]
SETTINGS = frozenset({"throttle", "fault_rate", "seed", "retry_grace", "latency_ms",
                      "replication_lag_seconds"})


class ControlError(Exception):
    """A control request that cannot be carried out; answered with 400."""


def _json(value: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(value), status_code=status, media_type="application/json")


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ControlError(f"the body is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ControlError("the body must be a JSON object")
    return value


def _number(body: dict[str, Any], name: str, *, low: float, high: float) -> float:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ControlError(f"'{name}' must be a number")
    if not low <= value <= high:
        raise ControlError(f"'{name}' must be between {low} and {high}")
    return float(value)


def _handler(action: Callable[[dict[str, Any], Request], Any]) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        try:
            body = await _body(request) if request.method == "POST" else {}
            return _json(action(body, request))
        except KeyError as exc:
            return _json({"error": f"missing field {exc.args[0]!r}"}, 400)
        except (ControlError, ValueError) as exc:
            message = exc.args[0] if exc.args else str(exc)
            return _json({"error": str(message)}, 400)

    return endpoint


def control_routes(runtime: Runtime, prefix: str) -> list[BaseRoute]:
    """Routes of the control endpoint below ``prefix``."""
    emulator = runtime.emulator

    def advance(body: dict[str, Any], _: Request) -> Any:
        now = emulator.clock.advance(_number(body, "seconds", low=0, high=10 * 365 * 86400))
        return {"now": iso(now)}

    def faults(body: dict[str, Any], _: Request) -> Any:
        unknown = sorted(set(body) - SETTINGS)
        if unknown:
            raise ControlError(f"unknown setting {unknown[0]!r}; known: {sorted(SETTINGS)}")
        latency = _number(body, "latency_ms", low=0, high=60_000) if "latency_ms" in body \
            else None
        lag = _number(body, "replication_lag_seconds", low=0, high=3600) \
            if "replication_lag_seconds" in body else None
        runtime.configure_faults(body)
        if latency is not None:
            emulator.latency_ms = latency
        if lag is not None:
            set_replication_lag(emulator, lag)
        return runtime.settings()

    def log(_: dict[str, Any], request: Request) -> Any:
        since = float(request.query_params.get("since", "0"))
        return [_record(record) for record in emulator.log if record.time >= since]

    def usage(_: dict[str, Any], __: Request) -> Any:
        return [{"tenant_id": t, "client_id": c, "resource_units": ru}
                for (t, c), ru in sorted(emulator.resource_units.items())]

    routes = {
        ("GET", "/routes"): lambda b, r: emulator.router.describe(),
        ("GET", "/tenants"): lambda b, r: emulator.describe(),
        ("POST", "/tenants"): lambda b, r: runtime.create_tenant_from_control(b),
        ("POST", "/apps"): lambda b, r: runtime.create_app_from_control(b),
        ("GET", "/clock"): lambda b, r: {"now": iso(emulator.clock.now())},
        ("POST", "/clock/advance"): advance,
        ("GET", "/settings"): lambda b, r: runtime.settings(),
        ("POST", "/settings"): faults,
        ("POST", "/throttle/reset"): lambda b, r: runtime.reset_throttle(),
        ("GET", "/log"): log,
        ("GET", "/usage"): usage,
        ("POST", "/state/checkpoint"): lambda b, r: runtime.checkpoint(_name(b)),
        ("POST", "/state/rollback"): lambda b, r: runtime.rollback(_name(b)),
        ("POST", "/state/reset"): lambda b, r: runtime.reset(),
        ("POST", "/state/save"): lambda b, r: runtime.save(str(b["path"])),
        ("POST", "/state/load"): lambda b, r: runtime.load(str(b["path"])),
        ("POST", "/delta/reset"): lambda b, r: runtime.reset_delta(str(b.get("tenant_id", ""))),
    }
    return [
        Route(prefix + path, _handler(action), methods=[method])
        for (method, path), action in routes.items()
    ]


def _name(body: dict[str, Any]) -> str:
    return str(body.get("name", "default"))


def _record(record: Any) -> dict[str, Any]:
    return {name: getattr(record, name) for name in record.__slots__}
