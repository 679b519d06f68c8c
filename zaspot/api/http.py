"""Plain HTTP GETs on the OCPP port: /healthz for load balancers, /metrics for Prometheus
(rendered by prometheus_client, see zaspot.core.metrics_page)."""

from __future__ import annotations

import http
from typing import TYPE_CHECKING

import orjson
from websockets.datastructures import Headers
from websockets.http11 import Response

from zaspot.core.metrics_page import render_off_loop

if TYPE_CHECKING:
    from zaspot.ocpp.context import ServerContext
    from zaspot.ocpp.server import HttpHandler


def _response(body: bytes, content_type: str, status: http.HTTPStatus = http.HTTPStatus.OK) -> Response:
    headers = Headers([("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return Response(status.value, status.phrase, headers, body)


def healthz(ctx: ServerContext) -> Response:
    ok = ctx.store.healthy
    body = orjson.dumps({"up": True, "database_ok": ok, "stations_connected": len(ctx.sessions)})
    status = http.HTTPStatus.OK if ok else http.HTTPStatus.SERVICE_UNAVAILABLE
    return _response(body, "application/json", status)


async def metrics(ctx: ServerContext) -> Response:
    body, content_type = await render_off_loop(ctx.metrics, {
        "zaspot_stations_connected": ("Stations with an open OCPP connection.", "gauge", lambda: len(ctx.sessions)),
        "zaspot_bus_dropped_total": ("Events dropped because a listener's queue was full.", "counter",
                                     lambda: ctx.bus.dropped),
    })
    return _response(body, content_type)


ROUTES: dict[str, HttpHandler] = {"/healthz": healthz, "/metrics": metrics}
