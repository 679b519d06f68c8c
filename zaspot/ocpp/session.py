"""One station's OCPP-J session: the RPC machinery both versions share.

Inbound CALLs are handled one at a time, in order: a station has at most one CALL
outstanding, so this keeps its messages ordered at no cost. Handlers never wait
for the station (they may only schedule a tracked task that does), so a
CALLRESULT to one of our calls is never stuck behind them.

A message is handled where it costs least:

- At once, in the connection's frame callback (`_take`), when nothing has to wait:
  a reply to one of our CALLs, or a CALL of an accepted station whose handler is a
  plain function and whose payload is valid. Such a handler returns its answer, or
  `AfterCommit(unit, answer)`, which is written from the store's callback once the
  unit is committed. No task wakes for the message, once or twice: those two
  wake-ups were a tenth of a MeterValues' cost.
- Otherwise in the reader loop (`run`), which awaits async handlers and does what
  needs waiting: the lazy restore of a station not yet accepted, a lenient station's
  mended payload, error answers. It takes nothing while an answer is still owed,
  so answers keep the order of their CALLs.

Our own CALLs: ocpp/outbound.py.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from zaspot.core.logformat import about
from zaspot.ocpp import leniency, rpc, schemas
from zaspot.ocpp.errors import OcppError, StationNotConnected
from zaspot.ocpp.link import Link, LinkClosed
from zaspot.ocpp.outbound import OutboundCalls

if TYPE_CHECKING:
    from zaspot.ocpp.context import ServerContext

_LOGGER = logging.getLogger(__name__)



@dataclass(slots=True)
class AfterCommit:
    """A handler's answer that may go only once its unit of work is committed (and its
    events fired): the session commits the unit, then answers."""

    unit: Any  # zaspot.store.unit.Unit: the session layer only hands it to commit
    answer: dict[str, Any]


Answer = dict[str, Any] | AfterCommit
# An async handler, or a plain one that needs no waiting (it may be run from the frame callback).
Handler = Callable[[Any, dict[str, Any]], Awaitable[dict[str, Any]] | Answer]
# (version, action) whose empty answer {} passed its schema: most answers are {}, and the
# same payload against the same schema gets the same verdict.
_EMPTY_ANSWER_VALID: set[tuple[str, str]] = set()


def on(action: str) -> Callable[[Handler], Handler]:
    """Tag a method as the handler of an inbound action. Only records data."""

    def tag(fn: Handler) -> Handler:
        fn._ocpp_action = action  # type: ignore[attr-defined]
        return fn

    return tag


class Session(OutboundCalls):
    version: ClassVar[str]
    _routes: ClassVar[dict[str, str]]
    _plain: ClassVar[dict[str, str]]  # the routes whose handler is a plain function

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        routes: dict[str, str] = {}
        for klass in reversed(cls.__mro__):
            for name, attr in vars(klass).items():
                action = getattr(attr, "_ocpp_action", None)
                if action:
                    routes[action] = name
        cls._routes = routes
        cls._plain = {action: name for action, name in routes.items()
                      if not inspect.iscoroutinefunction(getattr(cls, name))}

    def __init__(self, ws: Link, station_id: str, ctx: ServerContext, remote: str = "") -> None:
        self.ws = ws
        self.station_id = station_id
        self.ctx = ctx
        self.remote = remote
        self.accepted = False  # may send anything but BootNotification
        self.generation = 0  # which connection of this station, in the server's count (set by the server)
        # The fleet state's record: run() sets its last_seen per frame, the one last-seen time there is.
        self.state = ctx.fleet.heard(station_id, time.time())
        self._calls_start()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.closed = False
        self._busy = False  # the reader loop is in a message (perhaps awaiting in it)
        self._owed = False  # a CALL taken at once waits for its commit to be answered
        self._owed_waiter: asyncio.Future[None] | None = None  # the reader loop, waiting for that answer

    def log_extra(self) -> dict[str, Any]:
        """The `extra=` of a log line about this station: its id, version and address."""
        return about(self.station_id, self.version, self.remote)

    # --- the reader loop ------------------------------------------------

    async def run(self) -> None:
        self.ws.on_message = self._take
        try:
            async for raw in self.ws:
                self._busy = True
                try:
                    if self._owed:  # the CALL before this one is answered first
                        self._owed_waiter = asyncio.get_running_loop().create_future()
                        await self._owed_waiter
                    await self._handle(raw)
                finally:
                    self._busy = False
        finally:
            self.ws.on_message = None
            self.closed = True
            self._fail_pending(StationNotConnected(self.station_id))
            for task in list(self._tasks):
                task.cancel()

    def _heard(self, raw: str | bytes) -> None:
        """Every inbound frame: the station's last-seen time, and the frame log."""
        self.state.last_seen = time.time()
        frame_log = self.ctx.frame_log
        if frame_log is not None:
            frame_log.record(self.station_id, "in", raw)

    async def _handle(self, raw: str | bytes) -> None:
        self._heard(raw)
        if isinstance(raw, bytes):  # OCPP-J is text frames only
            await self._send_error("-1", "RpcFrameworkError", "Binary frames are not allowed")
            return
        try:
            try:
                frame = rpc.parse(raw)
            except rpc.FrameError as exc:
                self.ctx.metrics.frame_errors += 1
                await self._send_error(exc.message_id, exc.code, exc.description)
                return
            if type(frame) is rpc.Call:
                await self._on_call(frame)
            else:
                self._on_reply(frame)
        except Exception:  # our bug: log it, keep the station's connection
            _LOGGER.exception("%s: frame could not be handled: %.200s", self.station_id, raw,
                              extra=self.log_extra())

    # --- messages handled at once, in the frame callback ------------------

    def _take(self, raw: str | bytes) -> bool:
        """Handle a message now if nothing about it has to wait (see the module's
        docstring); False leaves it to the reader loop, untouched."""
        if self._busy or self._owed or type(raw) is not str:
            return False
        try:
            frame = rpc.parse(raw)
        except rpc.FrameError:
            return False  # the reader loop answers it
        if type(frame) is not rpc.Call:
            self._heard(raw)
            self._on_reply(frame)
            return True
        action = frame.action
        name = self._plain.get(action)
        if name is None or not self.accepted or not self.ws.can_write_now():
            return False
        try:
            schemas.validate(self.version, action, frame.payload)
        except schemas.SchemaError:
            return False  # the reader loop mends it or answers the error
        started = time.perf_counter()
        self._heard(raw)
        self.ctx.metrics.count_in(self.version, action)
        try:
            answer = getattr(self, name)(frame.payload)
            if type(answer) is AfterCommit:
                self._owed = True
                self.commit_then(answer.unit, lambda _, error: self._committed(frame, answer, started, error))
            else:
                self._answered(frame, answer, started)
        except Exception as exc:  # noqa: BLE001  (as in _on_call: the station hears of it)
            self._owed = False
            self._reply(self._failure_frame(frame, exc))
        return True

    def _committed(self, frame: rpc.Call, after: AfterCommit, started: float, error: BaseException | None) -> None:
        """A CALL taken at once: its unit is committed (or failed), so it is answered now."""
        self._owed = False
        if error is None:
            self._answered(frame, after.answer, started)
        else:
            self._reply(self._failure_frame(frame, error))
        waiter, self._owed_waiter = self._owed_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _answered(self, frame: rpc.Call, response: dict[str, Any], started: float) -> None:
        data, ok = self._answer_frame(frame, response)
        self._reply(data)
        if ok:
            self.ctx.metrics.observe(self.version, frame.action, time.perf_counter() - started)

    def _reply(self, data: bytes) -> None:
        """Write an answer from a callback; behind a full buffer it waits in a task."""
        if not self._write_now(data) and not self.ws.closed:
            self.spawn(self._send_later(data), "answer")

    async def _send_later(self, data: bytes) -> None:
        try:
            await self.ws.send(data)
        except LinkClosed:
            pass

    def commit_then(self, unit: Any, then: Callable[[Any, BaseException | None], None]) -> None:
        """Commit a unit of work and fire its events, then call `then(results, error)`:
        for a plain handler's AfterCommit (station sessions have a store)."""
        raise NotImplementedError

    async def commit(self, unit: Any) -> list[Any]:
        """Commit a unit of work and fire its events (station sessions have a store)."""
        raise NotImplementedError

    # --- messages handled in the reader loop ---------------------------------

    async def _on_call(self, frame: rpc.Call) -> None:
        started = time.perf_counter()
        action = frame.action
        self.ctx.metrics.count_in(self.version, action)
        name = self._routes.get(action)
        if name is None:
            if action in schemas.known_actions(self.version):
                await self._send_error(frame.message_id, "NotSupported",
                                       f"{action} is not supported by this central system")
            else:
                await self._send_error(frame.message_id, "NotImplemented", f"Unknown action {action}")
            return
        if not self.accepted and action != "BootNotification":
            await self.restore()
        if not self.accepted and action != "BootNotification":
            await self._send_error(frame.message_id, "SecurityError",
                                   "Station is not accepted: send BootNotification first")
            return
        payload = frame.payload
        try:
            schemas.validate(self.version, action, payload)
        except schemas.SchemaError as exc:
            mended = await self._mended_payload(frame, exc)
            if mended is None:
                return
            payload = mended
        try:
            response = await self._run_handler(name, payload)
        except Exception as exc:  # noqa: BLE001  (_failure_frame tells the station, and logs our bugs)
            await self._send(self._failure_frame(frame, exc))
            return
        data, ok = self._answer_frame(frame, response)
        await self._send(data)
        if ok:
            self.ctx.metrics.observe(self.version, action, time.perf_counter() - started)

    async def _run_handler(self, name: str, payload: dict[str, Any]) -> dict[str, Any]:
        answer = getattr(self, name)(payload)
        if type(answer) is dict:
            return answer
        if type(answer) is AfterCommit:
            await self.commit(answer.unit)
            return answer.answer
        response: dict[str, Any] = await answer
        return response

    def _answer_frame(self, frame: rpc.Call, response: dict[str, Any]) -> tuple[bytes, bool]:
        """The CALLRESULT for a handler's response, and True; an InternalError if our
        response breaks its schema (our bug: never put it on the wire), and False."""
        action = frame.action
        if response or (self.version, action) not in _EMPTY_ANSWER_VALID:  # {} once valid stays valid
            try:
                schemas.validate(self.version, action, response, response=True)
            except schemas.SchemaError as exc:
                _LOGGER.error("%s: our %s response is invalid: %s", self.station_id, action, exc.description,
                              extra=self.log_extra())
                return self._error_frame(frame.message_id, "InternalError",
                                         "Central system produced an invalid response"), False
            if not response:
                _EMPTY_ANSWER_VALID.add((self.version, action))
        return rpc.call_result(frame.message_id, response), True

    def _failure_frame(self, frame: rpc.Call, exc: BaseException) -> bytes:
        """The CALLERROR for a handler that raised: its OCPP error, or InternalError for a
        bug or a store failure (logged; the station retries)."""
        if isinstance(exc, OcppError):
            return self._error_frame(frame.message_id, exc.code, exc.description)
        _LOGGER.error("%s: handling %s failed", self.station_id, frame.action, exc_info=exc,
                      extra=self.log_extra())
        return self._error_frame(frame.message_id, "InternalError",
                                 f"{frame.action} could not be processed: {type(exc).__name__}")

    async def _mended_payload(self, frame: rpc.Call, error: schemas.SchemaError) -> dict[str, Any] | None:
        """A schema-invalid payload mended, for a lenient station; None once answered with the error."""
        if self.is_lenient(frame.payload):
            try:
                payload, deviations = leniency.repair(self.version, frame.action, frame.payload)
            except schemas.SchemaError as exc:
                error = exc
            except Exception:  # a repair we got wrong must not cost the station its answer
                _LOGGER.exception("%s: leniency failed on %s", self.station_id, frame.action,
                                  extra=self.log_extra())
            else:
                await self.deviated(frame.action, deviations)
                return payload
        await self._send_error(frame.message_id, error.code, f"{frame.action} {error.description}")
        return None

    def is_lenient(self, payload: dict[str, Any]) -> bool:
        return False

    async def restore(self) -> None:
        """Recall what was known of this station before this connection (version sessions)."""

    async def deviated(self, action: str, deviations: list[leniency.Deviation]) -> None:
        """A lenient station's payload was mended: tell the operator (version sessions record it)."""

    # --- sending ---------------------------------------------------------

    def _write_now(self, data: bytes) -> bool:
        """Log the frame and write it at once unless the socket's buffer is full; False: await send()."""
        if self.ctx.frame_log is not None:
            self.ctx.frame_log.record(self.station_id, "out", data)
        return self.ws.send_now(data)

    async def _send(self, data: bytes) -> None:
        if self._write_now(data):
            return
        try:
            await self.ws.send(data)
        except LinkClosed:
            pass

    async def _send_error(self, message_id: str, name: str, description: str) -> None:
        await self._send(self._error_frame(message_id, name, description))

    def _error_frame(self, message_id: str, name: str, description: str) -> bytes:
        self.ctx.metrics.count_error(self.version, name)
        return rpc.call_error(message_id, rpc.error_code(name, self.version), description)

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Start a task tied to this session (cancelled when it ends, errors logged)."""
        task = asyncio.get_running_loop().create_task(coro, name=f"{self.station_id}:{name}")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _LOGGER.error("%s: task %s failed", self.station_id, task.get_name(), exc_info=task.exception(),
                          extra=self.log_extra())

    @property
    def last_seen(self) -> float:
        """When the station was last heard from (a frame or a pong): the fleet state's time."""
        return self.state.last_seen

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self.ws.close(code, reason)

    def abort(self, code: int = 1000, reason: str = "") -> None:
        """End the connection now, without waiting for the peer (a half-open one never answers).

        The close frame goes out if it can be written at once; then the socket is dropped.
        """
        self.closed = True
        self.ws.abort(code, reason)
