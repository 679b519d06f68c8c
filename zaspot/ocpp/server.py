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
from collections.abc import Awaitable, Callable
from urllib.parse import unquote, urlsplit

from websockets.exceptions import InvalidHeader
from websockets.headers import parse_subprotocol
from websockets.http11 import Request, Response

from zaspot.core.logformat import WEBSOCKETS_LOGGER, about, quiet_websockets, where
from zaspot.ocpp import schemas
from zaspot.ocpp.context import ServerContext
from zaspot.ocpp.handshake import FrameSettings, Handshake
from zaspot.ocpp.keepalive import Keepalive
from zaspot.ocpp.link import Link
from zaspot.ocpp.security import StationAuth, tls_context
from zaspot.ocpp.session import Session
from zaspot.ocpp.v16 import SessionV16
from zaspot.ocpp.v201 import SessionV201

_LOGGER = logging.getLogger(__name__)

SUBPROTOCOLS: dict[str, type[Session]] = {"ocpp2.0.1": SessionV201, "ocpp1.6": SessionV16}
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


class OcppServer:
    """The listening socket: each connection's request is decided here (zaspot/ocpp/handshake.py),
    then served as a station session or an operator API connection on a picows Link."""

    def __init__(self, ctx: ServerContext) -> None:
        self.ctx = ctx
        self.http_routes: dict[str, HttpHandler] = {}
        # Serves API_PATH connections (the operator API); None: the path is refused.
        self.api_handler: Callable[[Link], Awaitable[None]] | None = None
        self._server: asyncio.Server | None = None
        self._generations = itertools.count(1)  # each station connection's number
        self.auth = StationAuth(ctx)
        self._per_address: Counter[str] = Counter()  # open station connections by remote host
        self._served: dict[asyncio.Task[None], Link] = {}  # every upgraded connection's task
        self._stopping = False
        cfg = ctx.config.ocpp
        self.keepalive = Keepalive(cfg.ping_interval, cfg.ping_timeout or None) if cfg.ping_interval else None
        self.tls = tls_context(ctx.config)  # before anything listens: a bad cert is a config error

    async def start(self, host: str, port: int) -> None:
        cfg = self.ctx.config.ocpp
        self._stopping = False  # a stopped server may start again (tests restart one in place)
        await self.auth.start()
        quiet_websockets()  # its lines name no station; ours do (connected, refused, …)
        if cfg.compression:
            _LOGGER.warning("ocpp.compression is set, but the station endpoint does not compress: stations "
                            "that offer permessage-deflate are answered without it (it is optional for them)")
        await asyncio.to_thread(schemas.compile_all)  # every schema before any station: no first message compiles one
        settings = FrameSettings(cfg.max_frame_bytes, cfg.handshake_timeout, logging.getLogger(WEBSOCKETS_LOGGER))
        if self.keepalive is not None:
            self.keepalive.start()
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: Handshake(self._decide, self._started, settings), host, port, ssl=self.tls,
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
        """Stop listening, close every connection (1001) and wait for their sessions to end."""
        self._stopping = True
        await self.auth.stop()
        if self.ctx.liveness is not None:
            await self.ctx.liveness.unwatch()
        if self._server:
            self._server.close()
        if self.keepalive is not None:
            await self.keepalive.stop()
        links = list(self._served.values())
        await asyncio.gather(*(link.close(1001, "server shutting down") for link in links), return_exceptions=True)
        if self._served:
            await asyncio.gather(*self._served, return_exceptions=True)
        if self._server:
            await self._server.wait_closed()

    # --- handshake -------------------------------------------------------

    async def _decide(self, handshake: Handshake, request: Request) -> Response | Link:
        """The response that answers this request, or the Link that serves it once upgraded."""
        response = await self._process_request(handshake, request)
        if response is not None:
            return response
        cfg = self.ctx.config.ocpp
        path = urlsplit(request.path).path
        subprotocol = None if path == API_PATH else _chosen_subprotocol(request)
        return Link(request.path, subprotocol, handshake.remote_address, cfg.max_frame_bytes)

    async def _process_request(self, connection: Handshake, request: Request) -> Response | None:
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

    # --- connections -----------------------------------------------------

    def _started(self, link: Link) -> None:
        """picows sent the 101: serve the connection in a task of its own."""
        if self._stopping:
            link.abort(1001, "server shutting down")
            return
        task = asyncio.get_running_loop().create_task(self._handle(link), name=f"link:{link.path[:60]}")
        self._served[task] = link
        task.add_done_callback(self._served.pop)
        if self.keepalive is not None:
            self.keepalive.links.add(link)

    async def _handle(self, ws: Link) -> None:
        if urlsplit(ws.path).path == API_PATH and self.api_handler is not None:
            try:
                await self.api_handler(ws)
            finally:
                ws.abort(1000)
            return
        station_id = station_id_from_path(ws.path)
        assert station_id is not None and ws.subprotocol is not None
        remote = "{}:{}".format(*ws.remote_address[:2]) if ws.remote_address else ""
        session = SUBPROTOCOLS[ws.subprotocol](ws, station_id, self.ctx, remote)
        session.generation = next(self._generations)
        self._take_over(station_id, session)
        heard = self.ctx.fleet.heard
        ws.on_pong = lambda: heard(station_id, time.time())
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
            ws.abort(1000)  # the session ended while the socket is open (a bug, a cancel): close it
            # A replaced session leaves the station alone: the new connection owns it now.
            if self.ctx.sessions.get(station_id) is session:
                del self.ctx.sessions[station_id]
                await session.on_disconnect(ws.close_code or 1006, ws.close_reason or "")  # type: ignore[attr-defined]

    def _take_over(self, station_id: str, session: Session) -> None:
        """`session` becomes the station's connection now; an older one is dropped, not awaited."""
        old = self.ctx.sessions.get(station_id)
        self.ctx.sessions[station_id] = session
        if old is not None:
            _LOGGER.info("%s replaced: connection %d takes over from %d (%s)", station_id, session.generation,
                         old.generation, where(session.version, session.remote),
                         extra=about(station_id, session.version, session.remote))
            old.ws.on_pong = None
            old.abort(1000, "replaced by a new connection")


def _chosen_subprotocol(request: Request) -> str:
    """The first of ours the station offered (2.0.1 before 1.6); _process_request made sure there is one."""
    offered = _offered_subprotocols(request)
    return next(name for name in SUBPROTOCOLS if name in offered)
