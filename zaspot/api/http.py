"""Plain HTTP GETs on the OCPP port: /healthz for load balancers, /metrics for Prometheus."""

from __future__ import annotations

import http
from typing import TYPE_CHECKING

import orjson
from websockets.datastructures import Headers
from websockets.http11 import Response

from zaspot.core.connection_events import REFUSAL_REASONS
from zaspot.core.metrics import LATENCY_BUCKETS, Metrics

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
        "# HELP zaspot_schema_deviations_total Schema breaks mended for lenient stations.",
        "# TYPE zaspot_schema_deviations_total counter",
        f"zaspot_schema_deviations_total {m.schema_deviations}",
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
    lines += _latency_lines(m)
    for name, (help_text, kind, read) in sorted(m.published.items()):
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", f"{name} {read()}"]
    for name, (help_text, kind, label, read) in sorted(m.labelled.items()):
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
        lines += [f'{name}{{{label}="{_esc(key)}"}} {value}' for key, value in sorted(read().items()) if value is not None]
    lines += ["# HELP zaspot_handshakes_refused_total Refused WebSocket handshakes by reason.",
              "# TYPE zaspot_handshakes_refused_total counter"]
    refused = {**dict.fromkeys(REFUSAL_REASONS, 0), **m.handshakes_refused}  # every station reason, 0 too
    lines += [f'zaspot_handshakes_refused_total{{reason="{_esc(r)}"}} {n}' for r, n in sorted(refused.items())]
    return _response(("\n".join(lines) + "\n").encode(), "text/plain; version=0.0.4; charset=utf-8")


def _latency_lines(m: Metrics) -> list[str]:
    name = "zaspot_call_duration_seconds"
    lines = [f"# HELP {name} Time from a station's CALL to our answer, store commit included.",
             f"# TYPE {name} histogram"]
    for (version, action), h in sorted(m.latency.items()):
        labels = f'version="{_esc(version)}",action="{_esc(action)}"'
        cumulative = 0
        for bound, count in zip((*LATENCY_BUCKETS, "+Inf"), h.counts):
            cumulative += count
            lines.append(f'{name}_bucket{{{labels},le="{bound}"}} {cumulative}')
        lines += [f"{name}_sum{{{labels}}} {h.total}", f"{name}_count{{{labels}}} {h.count}"]
    return lines


ROUTES = {"/healthz": healthz, "/metrics": metrics}
