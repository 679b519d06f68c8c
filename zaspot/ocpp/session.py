"""One station's OCPP-J session: the RPC machinery both versions share.

Inbound CALLs are handled in order, inline in the reader loop: a station has
at most one CALL outstanding, so this keeps its messages ordered at no cost.
Handlers never wait for the station (they may only schedule a tracked task
that does), so a CALLRESULT to one of our calls is never stuck behind them.

Our own CALLs go through one lock: at most one outstanding per connection.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, ClassVar

from zaspot.core.logformat import about
from zaspot.ocpp import leniency, rpc, schemas
from zaspot.ocpp.errors import CallErrorReply, CallTimeout, InvalidReply, OcppError, StationNotConnected
from zaspot.ocpp.link import Link, LinkClosed

if TYPE_CHECKING:
    from zaspot.ocpp.context import ServerContext

_LOGGER = logging.getLogger(__name__)

Handler = Callable[[Any, dict[str, Any]], Awaitable[dict[str, Any]]]
# (version, action) whose empty answer {} passed its schema: most answers are {}, and the
# same payload against the same schema gets the same verdict.
_EMPTY_ANSWER_VALID: set[tuple[str, str]] = set()


def on(action: str) -> Callable[[Handler], Handler]:
    """Tag a method as the handler of an inbound action. Only records data."""

    def tag(fn: Handler) -> Handler:
        fn._ocpp_action = action  # type: ignore[attr-defined]
        return fn

    return tag


class Session:
    version: ClassVar[str]
    _routes: ClassVar[dict[str, str]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        routes: dict[str, str] = {}
        for klass in reversed(cls.__mro__):
            for name, attr in vars(klass).items():
                action = getattr(attr, "_ocpp_action", None)
                if action:
                    routes[action] = name
        cls._routes = routes

    def __init__(self, ws: Link, station_id: str, ctx: ServerContext, remote: str = "") -> None:
        self.ws = ws
        self.station_id = station_id
        self.ctx = ctx
        self.remote = remote
        self.accepted = False  # may send anything but BootNotification
        self.generation = 0  # which connection of this station, in the server's count (set by the server)
        # The fleet state's record: run() sets its last_seen per frame, the one last-seen time there is.
        self.state = ctx.fleet.heard(station_id, time.time())
        self._call_lock = asyncio.Lock()
        self._pending: tuple[str, str, asyncio.Future[rpc.Frame]] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.closed = False

    def log_extra(self) -> dict[str, Any]:
        """The `extra=` of a log line about this station: its id, version and address."""
        return about(self.station_id, self.version, self.remote)

    # --- the reader loop ------------------------------------------------

    async def run(self) -> None:
        try:
            frame_log = self.ctx.frame_log
            state = self.state
            async for raw in self.ws:
                state.last_seen = time.time()
                if frame_log is not None:
                    frame_log.record(self.station_id, "in", raw)
                if isinstance(raw, bytes):  # OCPP-J is text frames only
                    await self._send_error("-1", "RpcFrameworkError", "Binary frames are not allowed")
                    continue
                try:
                    try:
                        frame = rpc.parse(raw)
                    except rpc.FrameError as exc:
                        self.ctx.metrics.frame_errors += 1
                        await self._send_error(exc.message_id, exc.code, exc.description)
                        continue
                    if type(frame) is rpc.Call:
                        await self._on_call(frame)
                    else:
                        self._on_reply(frame)
                except Exception:  # our bug: log it, keep the station's connection
                    _LOGGER.exception("%s: frame could not be handled: %.200s", self.station_id, raw,
                                      extra=self.log_extra())
        finally:
            self.closed = True
            self._fail_pending(StationNotConnected(self.station_id))
            for task in list(self._tasks):
                task.cancel()

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
            response = await getattr(self, name)(payload)
        except OcppError as exc:
            await self._send_error(frame.message_id, exc.code, exc.description)
            return
        except Exception as exc:  # a bug or a store failure: the station retries
            _LOGGER.exception("%s: handling %s failed", self.station_id, action, extra=self.log_extra())
            await self._send_error(frame.message_id, "InternalError",
                                   f"{action} could not be processed: {type(exc).__name__}")
            return
        if response or (self.version, action) not in _EMPTY_ANSWER_VALID:  # {} once valid stays valid
            try:
                schemas.validate(self.version, action, response, response=True)
            except schemas.SchemaError as exc:
                _LOGGER.error("%s: our %s response is invalid: %s", self.station_id, action, exc.description,
                              extra=self.log_extra())
                await self._send_error(frame.message_id, "InternalError",
                                       "Central system produced an invalid response")
                return
            if not response:
                _EMPTY_ANSWER_VALID.add((self.version, action))
        await self._send(rpc.call_result(frame.message_id, response))
        self.ctx.metrics.observe(self.version, action, time.perf_counter() - started)

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

    def _on_reply(self, frame: rpc.Frame) -> None:
        pending = self._pending
        if pending is None or pending[0] != frame.message_id:
            _LOGGER.warning("%s: reply to unknown message id %s dropped", self.station_id, frame.message_id,
                            extra=self.log_extra())
            return
        if not pending[2].done():
            pending[2].set_result(frame)

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
        self.ctx.metrics.count_error(self.version, name)
        await self._send(rpc.call_error(message_id, rpc.error_code(name, self.version), description))

    async def call(self, action: str, payload: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
        """Send a CALL and wait for its CALLRESULT. One outstanding call per connection."""
        schemas.validate(self.version, action, payload)  # our bug: never put it on the wire
        timeout = timeout or self.ctx.config.ocpp.call_timeout
        async with self._call_lock:
            if self.closed:
                raise StationNotConnected(self.station_id)
            message_id = str(uuid.uuid4())
            future: asyncio.Future[rpc.Frame] = asyncio.get_running_loop().create_future()
            self._pending = (message_id, action, future)
            self.ctx.metrics.count_out(self.version, action)
            frame = rpc.call(message_id, action, payload)
            try:
                if not self._write_now(frame):
                    await self.ws.send(frame)
                reply = await asyncio.wait_for(future, timeout)
            except TimeoutError:
                raise CallTimeout(self.station_id, action, timeout) from None
            except LinkClosed:
                raise StationNotConnected(self.station_id) from None
            finally:
                self._pending = None
                if not future.done():  # nobody will read it after this point
                    future.cancel()
        if isinstance(reply, rpc.CallError):
            raise CallErrorReply(reply.code, reply.description, reply.details)
        try:
            schemas.validate(self.version, action, reply.payload, response=True)
        except schemas.SchemaError as exc:
            raise InvalidReply(action, exc.description) from None
        return reply.payload

    def _fail_pending(self, exc: Exception) -> None:
        if self._pending and not self._pending[2].done():
            self._pending[2].set_exception(exc)

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
