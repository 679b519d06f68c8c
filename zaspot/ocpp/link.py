"""One WebSocket connection after its handshake: picows underneath, an awaitable face on top.

picows (Cython, built for asyncio) parses and writes frames in C and hands each
frame to a listener callback. `Link` is that listener, and what sessions and the
operator API use instead of a websockets connection:

    async for message in link: ...   # str for a text message, bytes for a binary one
    link.send_now(data)              # one text frame, written at once; False: await send()
    await link.send(data)            # waits while the socket's buffer is full
    await link.close(1000, "bye")    # the close handshake, bounded by close_timeout
    link.abort(1000, "replaced")     # a close frame if it can go now, then drop the socket

What picows leaves to its user is done here: fragmented messages are joined (and
bounded by max_size as a whole), text is checked to be UTF-8 (1007 otherwise), a
peer's close is answered, and a pong (solicited or not) is reported as a sign of life.
picows answers pings; ours go out from ocpp/keepalive.py.
Messages queue in a deque: a reader that keeps up never waits on a future. A reader
may take a message at once instead, in picows's callback (`on_message`, see
ocpp/session.py), when nothing is queued before it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from picows import WSCloseCode, WSFrame, WSListener, WSMsgType, WSTransport

_LOGGER = logging.getLogger(__name__)

TEXT, BINARY, CONTINUATION = WSMsgType.TEXT, WSMsgType.BINARY, WSMsgType.CONTINUATION
PING, PONG, CLOSE = WSMsgType.PING, WSMsgType.PONG, WSMsgType.CLOSE
NO_STATUS = 1005  # the peer's close frame had no code
ABNORMAL = 1006  # the connection ended without a close frame


class LinkClosed(Exception):
    """The connection is closed: nothing more can be read or written."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"connection closed ({code or ABNORMAL}{': ' + reason if reason else ''})")
        self.code = code
        self.reason = reason


class Link(WSListener):
    """A station's or an API client's connection; made by the handshake, one per socket."""

    def __init__(self, path: str, subprotocol: str | None, remote_address: tuple[Any, ...] | None,
                 max_size: int, close_timeout: float = 10.0) -> None:
        super().__init__()
        self.path = path
        self.subprotocol = subprotocol
        self.remote_address = remote_address
        self.max_size = max_size
        self.close_timeout = close_timeout
        self.transport: WSTransport | None = None
        self.close_code: int | None = None  # what the peer's close frame said (None: no close frame)
        self.close_reason = ""
        self.closed = False
        self.write_paused = False  # the socket's buffer is over its high-water mark
        self.on_pong: Callable[[], Any] | None = None
        # Offered each message before it is queued, if none is queued: True means taken.
        self.on_message: Callable[[str | bytes], bool] | None = None
        self.pinged_at = time.monotonic()  # when the last keepalive ping went (ocpp/keepalive.py)
        self.ping_sent: float | None = None  # a ping not answered yet: when it went
        self._inbox: deque[str | bytes] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._resumed: asyncio.Future[None] | None = None
        # Kept: asyncio.get_running_loop() is a getpid() system call on Python 3.11, once per message here.
        self._loop = asyncio.get_running_loop()
        self._gone: asyncio.Future[None] = self._loop.create_future()
        self._parts: list[bytes] = []  # a fragmented message so far
        self._parts_size = 0
        self._parts_text = False
        self._failed = False  # the peer broke the protocol: what it sent after that is not delivered

    # --- picows's callbacks ---------------------------------------------------

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        kind = frame.msg_type
        if kind is TEXT and frame.fin and not self._parts:
            if frame.payload_size > self.max_size:  # picows sent 1009, but hands the frame on if its end comes later
                self._fail(WSCloseCode.MESSAGE_TOO_BIG, f"message over {self.max_size} bytes")
                return
            try:
                self._deliver(frame.get_payload_as_utf8_text())
            except UnicodeDecodeError:
                self._fail(WSCloseCode.INVALID_TEXT, "invalid UTF-8 in a text frame")
        elif kind is TEXT or kind is BINARY or kind is CONTINUATION:
            self._fragment(kind, frame)
        elif kind is PONG:
            self._ponged()
        elif kind is CLOSE:
            self._peer_closed(frame)
        # PING: picows answers it (enable_auto_pong)

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self.closed = True
        self._wake()
        for future in (self._resumed, self._gone):
            if future is not None and not future.done():
                future.set_result(None)

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        if self._resumed is not None and not self._resumed.done():
            self._resumed.set_result(None)

    # --- reading ----------------------------------------------------------------

    def __aiter__(self) -> Link:
        return self

    async def __anext__(self) -> str | bytes:
        """The next message (a session's reader loop: one coroutine per message, no more)."""
        inbox = self._inbox
        while not inbox:
            if self.closed:
                raise StopAsyncIteration
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return inbox.popleft()

    async def recv(self) -> str | bytes:
        """The next message; LinkClosed once the connection is gone and nothing is left."""
        try:
            return await self.__anext__()
        except StopAsyncIteration:
            raise LinkClosed(self.close_code, self.close_reason) from None

    def _deliver(self, message: str | bytes) -> None:
        if self._failed:  # frames that came in the same read as the bad one
            return
        take = self.on_message
        if take is not None and not self._inbox:
            try:
                if take(message):
                    return
            except Exception:  # the taker's bug: the reader loop still gets the message
                _LOGGER.exception("a message could not be taken at once; queued for the reader")
        self._inbox.append(message)
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _fragment(self, kind: WSMsgType, frame: WSFrame) -> None:
        if kind is CONTINUATION:
            if not self._parts:
                self._fail(WSCloseCode.PROTOCOL_ERROR, "continuation frame without a message to continue")
                return
        elif self._parts:
            self._fail(WSCloseCode.PROTOCOL_ERROR, "new message before the last one was finished")
            return
        else:
            self._parts_text = kind is TEXT
        payload = frame.get_payload_as_bytes()
        self._parts_size += len(payload)
        if self._parts_size > self.max_size:
            self._fail(WSCloseCode.MESSAGE_TOO_BIG, f"message over {self.max_size} bytes")
            return
        self._parts.append(payload)
        if not frame.fin:
            return
        whole = b"".join(self._parts)
        self._parts, self._parts_size = [], 0
        if not self._parts_text:
            self._deliver(whole)
            return
        try:
            self._deliver(whole.decode())
        except UnicodeDecodeError:
            self._fail(WSCloseCode.INVALID_TEXT, "invalid UTF-8 in a text message")

    def _ponged(self) -> None:
        self.ping_sent = None
        if self.on_pong is not None:
            self.on_pong()

    def _peer_closed(self, frame: WSFrame) -> None:
        code = frame.get_close_code()
        self.close_code = NO_STATUS if code is WSCloseCode.NO_INFO else int(code.value)
        self.close_reason = frame.get_close_reason() or ""
        assert self.transport is not None
        if not self.transport.is_close_frame_sent:
            self.transport.send_close(code if code is not WSCloseCode.NO_INFO else WSCloseCode.OK)
        self.transport.disconnect()

    def _fail(self, code: WSCloseCode, reason: str) -> None:
        """The peer broke the protocol: say why in a close frame and end the connection."""
        _LOGGER.debug("closing a connection: %s", reason)
        self._failed = True
        self.abort(int(code.value), reason)

    # --- writing ------------------------------------------------------------------

    def can_write_now(self) -> bool:
        transport = self.transport
        return not self.closed and not self.write_paused and transport is not None \
            and not transport.is_close_frame_sent

    def send_now(self, data: bytes) -> bool:
        """Write `data` (UTF-8) as one text frame at once; False: the caller awaits send()."""
        if not self.can_write_now():
            return False
        self.transport.send(TEXT, data)  # type: ignore[union-attr]  # can_write_now checked it
        return True

    async def send(self, data: bytes | str, text: bool = True) -> None:
        """One message; waits while the socket's buffer is full; LinkClosed if it is gone."""
        payload = data.encode() if isinstance(data, str) else data
        while True:
            if self.closed or self.transport is None or self.transport.is_close_frame_sent:
                raise LinkClosed(self.close_code, self.close_reason)
            if not self.write_paused:
                self.transport.send(TEXT if text else BINARY, payload)
                return
            # One future for every writer waiting (an answer and a command at once): a new one per
            # writer would leave the others waiting for good; shielded, one cancelled leaves the rest.
            resumed = self._resumed
            if resumed is None or resumed.done():
                resumed = self._resumed = self._loop.create_future()
            await asyncio.shield(resumed)

    def ping(self, now: float) -> None:
        """A keepalive ping (ocpp/keepalive.py); any pong answers it."""
        if self.can_write_now():
            self.transport.send_ping()  # type: ignore[union-attr]  # can_write_now checked it
            self.pinged_at, self.ping_sent = now, now

    # --- ending -------------------------------------------------------------------

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """The close handshake: our close frame, then the peer's (or close_timeout), then the socket."""
        transport = self.transport
        if transport is None or self.closed:
            return
        if not transport.is_close_frame_sent:
            transport.send_close(WSCloseCode(code), _cut(reason))
        try:
            await asyncio.wait_for(asyncio.shield(self._gone), self.close_timeout)
        except TimeoutError:
            transport.disconnect(graceful=False)
            await asyncio.shield(self._gone)  # the loop reports the socket gone right after: closed when this returns

    def abort(self, code: int = 1000, reason: str = "") -> None:
        """End the connection now, without waiting for the peer (a half-open one never answers)."""
        transport = self.transport
        if transport is None or self.closed:
            return
        try:
            if not transport.is_close_frame_sent and not self.write_paused:
                transport.send_close(WSCloseCode(code), _cut(reason))
        except Exception:  # the socket is broken already: dropping it is all there is to do
            _LOGGER.debug("close frame not written", exc_info=True)
        transport.disconnect(graceful=False)

    async def wait_closed(self) -> None:
        await asyncio.shield(self._gone)


def _cut(reason: str) -> bytes:
    """The reason as a close frame holds it: 123 bytes, cut between characters (picows decodes it)."""
    return reason.encode()[:123].decode(errors="ignore").encode()
