"""Plain HTTP GETs on the OCPP port: /healthz for load balancers, /metrics for Prometheus."""

from __future__ import annotations

import http
from typing import TYPE_CHECKING

import orjson
from websockets.datastructures import Headers
from websockets.http11 import Response

if TYPE_CHECKING:
    from zaspot.ocpp.context import ServerContext


def _response(body: bytes, content_type: str, status: http.HTTPStatus = http.HTTPStatus.OK) -> Response:
    headers = Headers([("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return Response(status.value, status.phrase, headers, body)


def healthz(ctx: ServerContext) -> Response:
    ok = ctx.store.healthy
    body = orjson.dumps({"up": True, "database_ok": ok, "stations_connected": len(ctx.sessions)})
    status = http.HTTPStatus.OK if ok else http.HTTPStatus.SERVICE_UNAVAILABLE
    return _response(body, "application/json", status)


def _esc(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def metrics(ctx: ServerContext) -> Response:
    m = ctx.metrics
    lines = [
        "# HELP zaspot_stations_connected Stations with an open OCPP connection.",
        "# TYPE zaspot_stations_connected gauge",
        f"zaspot_stations_connected {len(ctx.sessions)}",
        "# HELP zaspot_connections_total OCPP connections accepted since start.",
        "# TYPE zaspot_connections_total counter",
        f"zaspot_connections_total {m.connections_total}",
        "# HELP zaspot_frame_errors_total Frames that could not be parsed as OCPP-J.",
        "# TYPE zaspot_frame_errors_total counter",
        f"zaspot_frame_errors_total {m.frame_errors}",
        "# HELP zaspot_bus_dropped_total Events dropped because a listener's queue was full.",
        "# TYPE zaspot_bus_dropped_total counter",
        f"zaspot_bus_dropped_total {ctx.bus.dropped}",
    ]
    for name, help_text, counter, label in (
        ("zaspot_messages_in_total", "CALLs received from stations.", m.messages_in, "action"),
        ("zaspot_messages_out_total", "CALLs sent to stations.", m.messages_out, "action"),
        ("zaspot_call_errors_total", "CALLERRORs sent to stations.", m.call_errors, "code"),
    ):
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} counter"]
        lines += [
            f'{name}{{version="{_esc(v)}",{label}="{_esc(a)}"}} {n}' for (v, a), n in sorted(counter.items())
        ]
    lines += ["# HELP zaspot_handshakes_refused_total Refused WebSocket handshakes by reason.",
              "# TYPE zaspot_handshakes_refused_total counter"]
    lines += [f'zaspot_handshakes_refused_total{{reason="{r}"}} {n}' for r, n in sorted(m.handshakes_refused.items())]
    return _response(("\n".join(lines) + "\n").encode(), "text/plain; version=0.0.4; charset=utf-8")


ROUTES = {"/healthz": healthz, "/metrics": metrics}
