"""A text frame written at once, when websockets' send() would not wait either.

`Connection.send()` wraps every frame in an async context manager that checks the
state, writes, and awaits drain(): on the 50-station bench that wrapper was most
of the send path, itself about a quarter of the event loop's busy time. While the
connection is open, the transport is not paused by flow control and no fragmented
message is going out, none of it can wait, so this writes the frame through the
Sans-I/O protocol (`ws.protocol`) directly. Otherwise it returns False and the
caller uses send(), which waits for the peer or raises ConnectionClosed as usual;
so does a websockets without the attributes read here (tests/unit/test_wswrite.py
checks that the installed one has them).
"""

from __future__ import annotations

import logging
from typing import Any

from websockets.protocol import State

_LOGGER = logging.getLogger(__name__)
_OPEN = State.OPEN


def write_text_now(ws: Any, data: bytes) -> bool:
    """Write `data` (UTF-8) as one text frame without awaiting; False: use `ws.send`."""
    try:
        if (ws.protocol.state is not _OPEN or ws.paused or ws.send_in_progress is not None
                or ws.transport.is_closing()):
            return False
        send_data = ws.send_data
    except AttributeError:  # a websockets whose connection looks different
        return False
    ws.protocol.send_text(data)
    try:
        send_data()
    except Exception:  # as send() does: the connection is broken, end it
        _LOGGER.debug("write failed, closing the connection", exc_info=True)
        ws.transport.abort()
    return True
