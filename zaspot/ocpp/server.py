"""The WebSocket endpoint: handshake, subprotocol choice, one session per station.

`ws://HOST:PORT/ocpp/<station_id>` (a bare `/<station_id>` works too). The
OCPP version is whatever subprotocol the handshake chose: 2.0.1 when a
station offers both. Plain GETs of /healthz and /metrics are answered here.
"""

from __future__ import annotations

import asyncio
import http
import logging
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote, urlsplit

from websockets.asyncio.server import Server as WsServer
from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import NegotiationError
from websockets.http11 import Request, Response

from zaspot.core import events as ev
from zaspot.ocpp.context import ServerContext
from zaspot.ocpp.security import StationAuth, tls_context
from zaspot.ocpp.session import Session
from zaspot.ocpp.v16 import SessionV16
from zaspot.ocpp.v201 import SessionV201

_LOGGER = logging.getLogger(__name__)

SUBPROTOCOLS: dict[str, type[Session]] = {"ocpp2.0.1": SessionV201, "ocpp1.6": SessionV16}
API_PATH = "/api/websocket"
# Printable ASCII without separators that could play path or quoting tricks.
_STATION_ID = re.compile(r"^[A-Za-z0-9._:@+\-*#=]{1,48}$")

HttpHandler = Callable[[ServerContext], Response]


def station_id_from_path(path: str) -> str | None:
    """The last path segment, if it is an acceptable station id."""
    raw = urlsplit(path).path
    segments = [s for s in raw.split("/") if s]
    if not segments or len(segments) > 2 or (len(segments) == 2 and segments[0] != "ocpp"):
        return None
    station_id = unquote(segments[-1])
    if station_id in (".", "..") or not _STATION_ID.match(station_id):
        return None
    return station_id


def _text_response(status: http.HTTPStatus, body: str, content_type: str = "text/plain") -> Response:
    data = body.encode()
    headers = Headers([("Content-Type", f"{content_type}; charset=utf-8"), ("Content-Length", str(len(data)))])
    return Response(status.value, status.phrase, headers, data)


class OcppServer:
    def __init__(self, ctx: ServerContext) -> None:
        self.ctx = ctx
        self.http_routes: dict[str, HttpHandler] = {}
        # Serves API_PATH connections (the operator API); None: the path is refused.
        self.api_handler: Callable[[ServerConnection], Awaitable[None]] | None = None
        self._server: WsServer | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self.auth = StationAuth(ctx)
        self._per_address: Counter[str] = Counter()  # open station connections by remote host
        self.tls = tls_context(ctx.config)  # before anything listens: a bad cert is a config error

    async def start(self, host: str, port: int) -> None:
        cfg = self.ctx.config.ocpp
        await self.auth.start()
        self._server = await serve(
            self._handle,
            host,
            port,
            process_request=self._process_request,
            select_subprotocol=self._select_subprotocol,
            compression="deflate" if cfg.compression else None,
            ping_interval=cfg.ping_interval or None,
            ping_timeout=cfg.ping_timeout or None,
            max_size=cfg.max_frame_bytes,  # bigger frames: close 1009
            open_timeout=cfg.handshake_timeout,
            server_header="zaspot",
            ssl=self.tls,
            backlog=cfg.listen_backlog,  # asyncio's default of 100 drops a reconnect storm's SYNs
        )
        self._watchdog = asyncio.get_running_loop().create_task(self._watch_offline(), name="offline-watchdog")

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        await self.auth.stop()
        if self._watchdog:
            self._watchdog.cancel()
            await asyncio.gather(self._watchdog, return_exceptions=True)
        if self._server:
            self._server.close()
            await self._server.wait_closed()

    # --- handshake -------------------------------------------------------

    async def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        path = urlsplit(request.path).path
        if path in self.http_routes:
            return self.http_routes[path](self.ctx)
        if path == API_PATH and self.api_handler is not None:
            return None
        station_id = station_id_from_path(request.path)
        if station_id is None:
            self.ctx.metrics.handshakes_refused["bad_station_id"] += 1
            return _text_response(
                http.HTTPStatus.NOT_FOUND,
                "Connect to /ocpp/<station_id>: a station id is 1-48 characters of "
                "letters, digits and . _ - : @ + * # =\n",
            )
        limit = self.ctx.config.ocpp.max_connections_per_address
        remote = connection.remote_address[0] if connection.remote_address else ""
        if limit and self._per_address[remote] >= limit:
            self.ctx.metrics.handshakes_refused["too_many_per_address"] += 1
            return _text_response(http.HTTPStatus.TOO_MANY_REQUESTS, f"more than {limit} connections from {remote}\n")
        return await self.auth.check(connection, request, station_id)

    def _select_subprotocol(self, connection: ServerConnection, offered: Any) -> str | None:
        if urlsplit(connection.request.path).path == API_PATH:
            return None
        for name in SUBPROTOCOLS:
            if name in offered:
                return name
        self.ctx.metrics.handshakes_refused["no_subprotocol"] += 1
        raise NegotiationError(
            f"no supported OCPP subprotocol offered ({', '.join(offered) or 'none'}); "
            f"this central system speaks {', '.join(SUBPROTOCOLS)}"
        )

    # --- connections -----------------------------------------------------

    async def _handle(self, ws: ServerConnection) -> None:
        if urlsplit(ws.request.path).path == API_PATH and self.api_handler is not None:
            await self.api_handler(ws)
            return
        station_id = station_id_from_path(ws.request.path)
        assert station_id is not None and ws.subprotocol is not None
        remote = "%s:%s" % ws.remote_address[:2] if ws.remote_address else ""
        session = SUBPROTOCOLS[ws.subprotocol](ws, station_id, self.ctx, remote)
        await self._take_over(station_id)
        self.ctx.sessions[station_id] = session
        self.ctx.metrics.connections_total += 1
        host = ws.remote_address[0] if ws.remote_address else ""
        self._per_address[host] += 1
        try:
            await session.on_connect()  # type: ignore[attr-defined]
            await session.run()
        finally:
            self._per_address[host] -= 1
            if self._per_address[host] <= 0:
                del self._per_address[host]
            if self.ctx.sessions.get(station_id) is session:
                del self.ctx.sessions[station_id]
            await session.on_disconnect(ws.close_code, ws.close_reason or "")  # type: ignore[attr-defined]

    async def _take_over(self, station_id: str) -> None:
        """A second connection with the same id replaces the first (the station reconnected)."""
        old = self.ctx.sessions.pop(station_id, None)
        if old is not None:
            _LOGGER.info("%s: new connection replaces the old one", station_id)
            await old.close(1000, "replaced by a new connection")

    async def _watch_offline(self) -> None:
        """Mark stations offline when nothing (frame or heartbeat) arrived for too long."""
        cfg = self.ctx.config.ocpp
        while True:
            await asyncio.sleep(min(30.0, cfg.offline_timeout / 4))
            cutoff = time.time() - cfg.offline_timeout
            for session in list(self.ctx.sessions.values()):
                if session.last_seen < cutoff and not session.offline_reported:
                    session.offline_reported = True
                    self.ctx.bus.fire(
                        ev.StationOffline(session.station_id, session.last_seen, "no heartbeat or message")
                    )
                elif session.offline_reported and session.last_seen >= cutoff:
                    session.offline_reported = False
                    self.ctx.bus.fire(ev.StationOnline(session.station_id))
