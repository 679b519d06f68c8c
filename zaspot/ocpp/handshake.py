"""The first request on a connection, read and decided before any WebSocket frame.

picows asks for its handshake decision synchronously, but ours may have to wait:
a station password is checked with scrypt in a thread, a refusal is stored, and
/metrics renders off the loop. So the request head is read here first, with
websockets' Sans-I/O parser (its limits on lines and headers), while reading
pauses; `decide(handshake, request)` answers with either

- a websockets `Response`: written, then the connection is closed; or
- a `Link` (zaspot/ocpp/link.py): the socket is handed to a picows protocol, fed
  the same request bytes, and picows checks the upgrade headers and sends the 101
  (with the subprotocol chosen here), then parses every frame after it in C.

A request not complete within the handshake timeout is dropped, as is one that is
not HTTP; one over the parser's limits on lines and headers gets its 414 or 431 first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from picows import WSAutoPingStrategy, WSUpgradeResponse, WSUpgradeResponseWithListener
from picows.api import WSProtocol
from websockets.datastructures import Headers
from websockets.http11 import Request, Response
from websockets.server import ServerProtocol

from zaspot.ocpp.link import Link

_LOGGER = logging.getLogger(__name__)
SERVER_HEADER = "zaspot"
READ_BUFFER = 2048  # picows's first read buffer per connection (it doubles as frames need): 15,000 idle stations

_DONE = ServerProtocol()  # stands in for a connection's parser once its request is decided

Decide = Callable[["Handshake", Request], Awaitable["Response | Link"]]
Started = Callable[[Link], None]


class FrameSettings:
    """What picows needs to know of every connection (from the `ocpp:` config)."""

    def __init__(self, max_size: int, handshake_timeout: float, logger: logging.Logger) -> None:
        self.max_size = max_size
        self.handshake_timeout = handshake_timeout
        # An adapter, not a Logger: picows makes a child Logger per connection of a Logger it is given.
        self.logger = logging.LoggerAdapter(logger, {})


class Handshake(asyncio.Protocol):
    """A connection until its request is decided; then it belongs to picows or is closed."""

    def __init__(self, decide: Decide, started: Started, settings: FrameSettings) -> None:
        self._decide = decide
        self._started = started
        self._settings = settings
        self.transport: Any = None  # asyncio's Transport, or uvloop's (no subclass of it)
        self.remote_address: tuple[Any, ...] | None = None
        self._parser = ServerProtocol(max_size=settings.max_size)
        self._received = bytearray()
        self._deciding: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None

    # --- asyncio's callbacks ------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.remote_address = transport.get_extra_info("peername")
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self._settings.handshake_timeout, self._timed_out)

    def data_received(self, data: bytes) -> None:
        if self._deciding is not None:  # pipelined bytes: the WebSocket's, kept for picows
            self._received += data
            return
        self._received += data
        self._parser.receive_data(data)
        if self._parser.handshake_exc is not None:  # not an HTTP request, or over the parser's limits
            self._refuse()
            return
        events = self._parser.events_received()
        if not events:
            return
        assert self.transport is not None
        self.transport.pause_reading()
        request = events[0]
        assert isinstance(request, Request)
        self._deciding = asyncio.get_running_loop().create_task(self._answer(request), name="handshake")

    def eof_received(self) -> bool:
        return False  # the transport closes itself

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timer()
        if self._deciding is not None and not self._deciding.done():
            self._deciding.cancel()

    # --- the decision ---------------------------------------------------------------

    async def _answer(self, request: Request) -> None:
        transport = self.transport
        assert transport is not None
        try:
            decision = await self._decide(self, request)
        except Exception:
            _LOGGER.exception("handshake of %s failed", request.path[:80])
            decision = Response(500, "Internal Server Error", Headers([("Content-Length", "0")]), b"")
        finally:
            self._deciding = None  # no cycle with the task: this object goes as soon as picows has the socket
        if transport.is_closing():
            return
        self._cancel_timer()
        if isinstance(decision, Link):
            self._hand_over(decision)
            return
        if "Server" not in decision.headers:
            decision.headers["Server"] = SERVER_HEADER
        self._parser.send_response(decision)
        for chunk in self._parser.data_to_send():
            if chunk:
                transport.write(chunk)
        transport.close()

    def _hand_over(self, link: Link) -> None:
        """picows takes the socket from here: it reads the same request, sends the 101 and parses frames."""
        transport = self.transport
        assert transport is not None
        headers = {"Server": SERVER_HEADER}
        if link.subprotocol:
            headers["Sec-WebSocket-Protocol"] = link.subprotocol
        response = WSUpgradeResponseWithListener(WSUpgradeResponse.create_101_response(headers), link)
        protocol = _picows_protocol(lambda _request: response, self._settings)
        transport.set_protocol(protocol)
        protocol.connection_made(transport)
        data = memoryview(bytes(self._received))
        self._received = bytearray()
        self._parser = _DONE  # its buffers and the request: nothing of them is needed now
        while data and not transport.is_closing():
            buffer = protocol.get_buffer(len(data))
            n = min(len(buffer), len(data))
            buffer[:n] = data[:n]
            protocol.buffer_updated(n)
            data = data[n:]
        if transport.is_closing() or link.transport is None:  # picows refused the upgrade headers
            return
        transport.resume_reading()
        self._started(link)

    # --- endings ----------------------------------------------------------------------

    def _timed_out(self) -> None:
        self._timer = None
        _LOGGER.debug("handshake not done within %s s: dropped", self._settings.handshake_timeout)
        self._drop()

    def _refuse(self) -> None:
        """The parser's answer (414, 431) if it has one, then the end; garbage gets none."""
        assert self.transport is not None
        for chunk in self._parser.data_to_send():
            if chunk:
                self.transport.write(chunk)
        self.transport.close()

    def _drop(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


def _picows_protocol(factory: Callable[[Any], Any], s: FrameSettings) -> Any:
    """A picows server protocol, as ws_create_server would build one (picows>=2.3,<2.4: pinned
    because these positional arguments are its constructor's; tests/unit/test_link.py checks it)."""
    return WSProtocol(
        None, None, False, factory, s.logger,
        True,  # disconnect_on_exception: a bug in a listener closes that connection (1011), logged
        s.handshake_timeout,
        False, 20.0, 20.0, WSAutoPingStrategy.PING_WHEN_IDLE,  # picows's keepalive: off (ocpp/keepalive.py pings)
        True,  # enable_auto_pong
        s.max_size,
        None,  # extra_headers (a client's)
        READ_BUFFER,
    )
