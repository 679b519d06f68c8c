"""A text frame written at once, when websockets' send() would not wait either.

`Connection.send()` wraps every frame in an async context manager that checks the
state, writes, and awaits drain(): on the 50-station bench that wrapper was most of
the send path, itself about a quarter of the event loop's busy time. While the
connection is open and the transport has not asked us to stop writing (flow
control), none of it can wait, so `write_text_now` writes the frame with websockets'
`broadcast()` to this one connection: the same frame send() writes, synchronously.
Otherwise it returns False and the caller uses send(), which waits for the peer or
raises ConnectionClosed as usual.

Only public parts of websockets are used: `broadcast()` (documented to write without
waiting and to skip a connection that is not open), `Connection.state`, and the
documented extension point `serve(create_connection=...)`: `WriteNowConnection`, a
ServerConnection subclass, keeps its own note of the transport and of flow control
from the asyncio Protocol callbacks every connection receives (`connection_made`,
`pause_writing`, `resume_writing`) and of the Sans-I/O protocol it is built with
(for `abort_now`'s close frame). A websockets whose `broadcast()` cannot do this
turns the fast path off with a warning at start (`warn_if_slow`), never silently.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import inspect
import logging
from typing import Any

from websockets.asyncio.server import ServerConnection, broadcast
from websockets.exceptions import ConcurrencyError
from websockets.protocol import State
from websockets.server import ServerProtocol

_LOGGER = logging.getLogger(__name__)
_OPEN = State.OPEN


def _fast_path_problem() -> str | None:
    """Why frames cannot be written at once with the installed websockets (None: they can)."""
    try:
        params = inspect.signature(broadcast).parameters
    except (TypeError, ValueError):
        return "its broadcast() has no signature to check"
    missing = [name for name in ("text", "raise_exceptions") if name not in params]
    if missing:
        return f"its broadcast() takes no {', '.join(missing)} argument"
    return None


PROBLEM = _fast_path_problem()  # None: answers are written at once


def warn_if_slow() -> None:
    """At start: say so when every frame has to go through send() (about a third fewer msgs/s)."""
    if PROBLEM is not None:
        _LOGGER.warning("websockets %s: %s, so every frame goes through send() (slower); install the "
                        "websockets version pyproject.toml names", importlib.metadata.version("websockets"), PROBLEM)


class WriteNowConnection(ServerConnection):
    """A server connection that knows, without websockets' internals, whether a write can go at once."""

    def __init__(self, protocol: ServerProtocol, *args: Any, **kwargs: Any) -> None:
        super().__init__(protocol, *args, **kwargs)
        self.sansio = protocol  # the Sans-I/O protocol it was built with (public API)
        self.raw_transport: Any = None  # asyncio's Transport, or uvloop's (no subclass of it)
        self.write_paused = False  # the transport's buffer is over its high-water mark

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.raw_transport = transport

    def pause_writing(self) -> None:
        super().pause_writing()
        self.write_paused = True

    def resume_writing(self) -> None:
        super().resume_writing()
        self.write_paused = False

    def can_write_now(self) -> bool:
        transport = self.raw_transport
        return (self.state is _OPEN and not self.write_paused and transport is not None
                and not transport.is_closing())


def write_text_now(ws: Any, data: bytes) -> bool:
    """Write `data` (UTF-8) as one text frame without awaiting; False: use `ws.send`."""
    if PROBLEM is not None or not isinstance(ws, WriteNowConnection) or not ws.can_write_now():
        return False
    try:
        broadcast((ws,), data, text=True, raise_exceptions=True)
    except ExceptionGroup as failed:
        if failed.subgroup(ConcurrencyError) is not None:  # a fragmented message is going out: send() waits
            return False
        # The frame was handed over and the socket failed: as send() does, end the connection.
        _LOGGER.debug("write failed, closing the connection", exc_info=True)
        ws.raw_transport.abort()
    return True


def abort_now(ws: Any, code: int = 1000, reason: str = "") -> None:
    """End the connection now: the close frame if it can be written at once, then drop the socket."""
    if not isinstance(ws, WriteNowConnection):
        raise TypeError(f"abort_now needs a WriteNowConnection (serve(create_connection=...)), not {type(ws).__name__}")
    transport = ws.raw_transport
    if transport is None:  # never connected
        return
    try:
        if ws.can_write_now():
            ws.sansio.send_close(code, reason)
            for chunk in ws.sansio.data_to_send():
                if chunk:  # b"" asks for end-of-stream; the abort below does more than that
                    transport.write(chunk)
    except Exception:  # the socket is broken already: dropping it is all there is to do
        _LOGGER.debug("close frame not written", exc_info=True)
    transport.abort()
