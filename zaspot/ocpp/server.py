"""The WebSocket endpoint: handshake, subprotocol choice, one session per station.

`ws://HOST:PORT/ocpp/<station_id>` (a bare `/<station_id>` works too). The
OCPP version is whatever subprotocol the handshake chose: 2.0.1 when a
station offers both. Plain GETs of /healthz and /metrics are answered here.

One connection per station id: a new one is served at once and the old one is dropped
without waiting for it (after a network drop it is usually half-open and would never
answer a close). Each session has a generation number; only the station's current
session may mark it disconnected.
"""

from __future__ import annotations

import asyncio
import http
import inspect
import itertools
import logging
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any
from urllib.parse import unquote, urlsplit

from websockets.asyncio.server import Server as WsServer
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import InvalidHeader, NegotiationError
from websockets.headers import parse_subprotocol
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from zaspot.core.logformat import WEBSOCKETS_LOGGER, about, quiet_websockets, where
from zaspot.ocpp import schemas
from zaspot.ocpp.context import ServerContext
from zaspot.ocpp.security import StationAuth, tls_context
from zaspot.ocpp.session import Session
from zaspot.ocpp.v16 import SessionV16
from zaspot.ocpp.v201 import SessionV201
from zaspot.ocpp.wswrite import WriteNowConnection, warn_if_slow

_LOGGER = logging.getLogger(__name__)

SUBPROTOCOLS: dict[Subprotocol, type[Session]] = {Subprotocol("ocpp2.0.1"): SessionV201,
                                                  Subprotocol("ocpp1.6"): SessionV16}
API_PATH = "/api/websocket"
# Printable ASCII without separators that could play path or quoting tricks.
_STATION_ID = re.compile(r"^[A-Za-z0-9._:@+\-*#=]{1,48}$")

# A plain GET's handler; an async one (/metrics) may hand slow work to a thread.
HttpHandler = Callable[[ServerContext], Response | Awaitable[Response]]


def station_id_from_path(path: str) -> str | None:
    """The last path segment, if it is an acceptable station id.

    `/ocpp/<id>` or `/<id>`; empty segments are skipped (`/ocpp//CP1` is CP1), so
    `/ocpp/` alone names no station: it is not station "ocpp" (that one is `/ocpp/ocpp`).
    """
    raw = path.partition("?")[0]  # a request target: urlsplit would read "//x" as a host
    segments = [s for s in raw.split("/") if s]
    if not segments or len(segments) > 2 or (len(segments) == 2 and segments[0] != "ocpp"):
        return None
    if segments == ["ocpp"]:
        return None
    station_id = unquote(segments[-1])
    if station_id in (".", "..") or not _STATION_ID.match(station_id):
        return None
    return station_id


def _offered_subprotocols(request: Request) -> list[str]:
    offered: list[str] = []
    try:
        for header in request.headers.get_all("Sec-WebSocket-Protocol"):
            offered += parse_subprotocol(header)
    except InvalidHeader:
        pass  # what parsed so far; a garbled header offers nothing we speak
    return offered


class StationConnection(WriteNowConnection):
    """websockets' server connection, telling us of every pong a station sends (and, as a
    WriteNowConnection, whether an answer can be written at once: zaspot/ocpp/wswrite.py).

    A pong (to websockets' keepalive ping, to any ping of ours, or unsolicited) means the
    station is there even when it sends no OCPP frame. websockets 17 has no public hook
    for it; `acknowledge_pings` is what its `process_event` calls for each PONG frame, so
    overriding it costs nothing on other frames. tests/unit/test_liveness.py fails if an
    upgrade stops calling it.
    """

    on_pong: Callable[[float], Any] | None = None  # called with the time of the pong

    def acknowledge_pings(self, data: bytes) -> None:
        super().acknowledge_pings(data)
        if self.on_pong is not None:
            self.on_pong(time.time())


class OcppServer:
    def __init__(self, ctx: ServerContext) -> None:
        self.ctx = ctx
        self.http_routes: dict[str, HttpHandler] = {}
        # Serves API_PATH connections (the operator API); None: the path is refused.
        self.api_handler: Callable[[ServerConnection], Awaitable[None]] | None = None
        self._server: WsServer | None = None
        self._generations = itertools.count(1)  # each station connection's number
        self.auth = StationAuth(ctx)
        self._per_address: Counter[str] = Counter()  # open station connections by remote host
        self.tls = tls_context(ctx.config)  # before anything listens: a bad cert is a config error

    async def start(self, host: str, port: int) -> None:
        cfg = self.ctx.config.ocpp
        await self.auth.start()
        quiet_websockets()  # its lines name no station; ours do (connected, refused, …)
        warn_if_slow()  # a websockets outside pyproject's range may turn the answers' fast path off
        await asyncio.to_thread(schemas.compile_all)  # every schema before any station: no first message compiles one
        self._server = await serve(
            self._handle,
            host,
            port,
            logger=logging.getLogger(WEBSOCKETS_LOGGER),
            create_connection=StationConnection,
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
        if self.ctx.liveness is not None:
            self.ctx.liveness.watch()  # the offline watchdog runs while stations can connect

    @property
    def port(self) -> int:
        assert self._server is not None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def stop(self) -> None:
        await self.auth.stop()
        if self.ctx.liveness is not None:
            await self.ctx.liveness.unwatch()
        if self._server:
            self._server.close()
            await self._server.wait_closed()

    # --- handshake -------------------------------------------------------

    async def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        path = urlsplit(request.path).path
        if path in self.http_routes:
            answer = self.http_routes[path](self.ctx)
            return await answer if inspect.isawaitable(answer) else answer
        if path == API_PATH and self.api_handler is not None:
            return None
        station_id = station_id_from_path(request.path)
        remote = connection.remote_address[0] if connection.remote_address else ""
        refuse = self.auth.refusals.refuse
        if station_id is None:
            return await refuse(
                "", remote, "bad_station_id", f"no station id in the path {request.path[:80]!a}",
                http.HTTPStatus.NOT_FOUND,
                body="Connect to /ocpp/<station_id>: a station id is 1-48 characters of "
                     "letters, digits and . _ - : @ + * # = (and /ocpp/ alone names no station)",
            )
        limit = self.ctx.config.ocpp.max_connections_per_address
        if limit and self._per_address[remote] >= limit:
            return await refuse(station_id, remote, "too_many_per_address",
                                f"more than {limit} connections from {remote}", http.HTTPStatus.TOO_MANY_REQUESTS)
        offered = _offered_subprotocols(request)
        if not any(name in offered for name in SUBPROTOCOLS):
            return await refuse(
                station_id, remote, "no_subprotocol",
                f"no supported OCPP subprotocol offered ({', '.join(offered)[:80] or 'none'}); "
                f"this central system speaks {', '.join(SUBPROTOCOLS)}",
                http.HTTPStatus.BAD_REQUEST,
            )
        return await self.auth.check(connection, request, station_id)

    def _select_subprotocol(self, connection: ServerConnection,
                            offered: Sequence[Subprotocol]) -> Subprotocol | None:
        assert connection.request is not None  # chosen during the handshake, which has the request
        if urlsplit(connection.request.path).path == API_PATH:
            return None
        for name in SUBPROTOCOLS:
            if name in offered:
                return name
        raise NegotiationError(  # _process_request refused it already; this is a safety net
            f"no supported OCPP subprotocol offered ({', '.join(offered) or 'none'}); "
            f"this central system speaks {', '.join(SUBPROTOCOLS)}"
        )

    # --- connections -----------------------------------------------------

    async def _handle(self, ws: ServerConnection) -> None:
        assert ws.request is not None  # handled once the handshake is done
        if urlsplit(ws.request.path).path == API_PATH and self.api_handler is not None:
            await self.api_handler(ws)
            return
        station_id = station_id_from_path(ws.request.path)
        assert station_id is not None and ws.subprotocol is not None
        remote = "{}:{}".format(*ws.remote_address[:2]) if ws.remote_address else ""
        session = SUBPROTOCOLS[ws.subprotocol](ws, station_id, self.ctx, remote)
        session.generation = next(self._generations)
        self._take_over(station_id, session)
        if isinstance(ws, StationConnection):
            ws.on_pong = partial(self.ctx.fleet.heard, station_id)
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
            # A replaced session leaves the station alone: the new connection owns it now.
            if self.ctx.sessions.get(station_id) is session:
                del self.ctx.sessions[station_id]
                await session.on_disconnect(ws.close_code, ws.close_reason or "")  # type: ignore[attr-defined]

    def _take_over(self, station_id: str, session: Session) -> None:
        """`session` becomes the station's connection now; an older one is dropped, not awaited."""
        old = self.ctx.sessions.get(station_id)
        self.ctx.sessions[station_id] = session
        if old is not None:
            _LOGGER.info("%s replaced: connection %d takes over from %d (%s)", station_id, session.generation,
                         old.generation, where(session.version, session.remote),
                         extra=about(station_id, session.version, session.remote))
            if isinstance(old.ws, StationConnection):
                old.ws.on_pong = None
            old.abort(1000, "replaced by a new connection")
