"""OCPP-J framing over one WebSocket: one outstanding CALL per direction.

The station's own calls are serialized by the caller (SimStation holds the lock);
this link only tracks the single pending CALL. Calls from the central system are
answered concurrently by the reader loop, so a slow own call never blocks them.
"""
from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable

import orjson
from websockets.exceptions import ConnectionClosed

log = logging.getLogger(__name__)

CALL, CALLRESULT, CALLERROR = 2, 3, 4

# A handler answers (action, payload) with (response_payload, after) where `after`
# is an optional coroutine function run once the response is on the wire (e.g. a
# triggered message or a reboot must follow the answer, never precede it).
# Long actions (a remote start) should be spawned by the station, not awaited here,
# so that a dropped link does not cancel them halfway.
After = Callable[[], Awaitable[None]] | None
Handler = Callable[[str, dict], Awaitable[tuple[dict, After]]]


class CallError(Exception):
    """The peer answered our CALL with a CALLERROR."""

    def __init__(self, code: str, description: str = "", details: dict | None = None):
        super().__init__(f"{code}: {description}")
        self.code, self.description, self.details = code, description, details or {}


class NotImplementedAction(Exception):
    """Raised by a handler for an action the station does not support: NotImplemented for
    one it does not know, NotSupported for one it knows but lacks (a feature profile left out)."""

    def __init__(self, action: str, code: str = "NotImplemented"):
        super().__init__(action)
        self.code = code


_ids = itertools.count(1)


class RpcLink:
    def __init__(self, ws, handler: Handler, timeout: float = 10.0):
        self.ws = ws
        self._handler = handler
        self._timeout = timeout
        self._pending: tuple[str, asyncio.Future] | None = None
        self._tasks: set[asyncio.Task] = set()

    async def call(self, action: str, payload: dict) -> dict:
        """Send one CALL and wait for its answer; caller guarantees no overlap."""
        msg_id = str(next(_ids))
        fut = asyncio.get_running_loop().create_future()
        self._pending = (msg_id, fut)
        try:
            await self.ws.send(orjson.dumps([CALL, msg_id, action, payload]), text=True)
            return await asyncio.wait_for(fut, self._timeout)
        finally:
            self._pending = None

    async def run(self) -> None:
        """Reader loop; returns when the connection closes."""
        try:
            async for raw in self.ws:
                self._dispatch(raw)
        except Exception as exc:  # noqa: BLE001  (a drop or an unreadable frame ends the link: the station decides)
            log.debug("link closed: %r", exc)
        finally:
            if self._pending and not self._pending[1].done():
                self._pending[1].set_exception(ConnectionError("connection closed"))
            await self.aclose_tasks()

    async def aclose_tasks(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _dispatch(self, raw) -> None:
        try:
            msg = orjson.loads(raw)
            kind = msg[0]
        except (orjson.JSONDecodeError, TypeError, KeyError, IndexError):  # not JSON, or not an array
            log.warning("unparsable frame: %r", raw[:200])
            return
        if kind == CALL:
            task = asyncio.create_task(self._answer(msg[1], msg[2], msg[3]))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return
        if not self._pending or self._pending[0] != msg[1] or self._pending[1].done():
            return  # late answer to a timed-out call: drop it
        fut = self._pending[1]
        if kind == CALLRESULT:
            fut.set_result(msg[2])
        elif kind == CALLERROR:
            fut.set_exception(CallError(msg[2], msg[3], msg[4] if len(msg) > 4 else {}))

    async def _answer(self, msg_id: str, action: str, payload: dict) -> None:
        after = None
        try:
            result, after = await self._handler(action, payload)
            frame = [CALLRESULT, msg_id, result]
        except NotImplementedAction as exc:
            frame = [CALLERROR, msg_id, exc.code, f"{action} not supported", {}]
        except Exception as exc:
            log.exception("handler for %s failed", action)
            frame = [CALLERROR, msg_id, "InternalError", str(exc)[:200], {}]
        try:
            await self.ws.send(orjson.dumps(frame), text=True)
        except ConnectionClosed:
            return
        if after is not None:
            res = after()  # a coroutine to await, or None when it spawned its own task
            if res is not None:
                await res
