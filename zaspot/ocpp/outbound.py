"""Our CALLs to one station: one outstanding per connection (OCPP-J), each answered,
refused with a CALLERROR, or timed out. A mixin of ocpp/session.py's Session, which
hands it every CALLRESULT and CALLERROR it reads (`_on_reply`)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import TYPE_CHECKING, Any, ClassVar

from zaspot.core.logformat import about
from zaspot.ocpp import rpc, schemas
from zaspot.ocpp.errors import CallErrorReply, CallTimeout, InvalidReply, StationNotConnected
from zaspot.ocpp.link import Link, LinkClosed

if TYPE_CHECKING:
    from zaspot.ocpp.context import ServerContext

_LOGGER = logging.getLogger(__name__)


class OutboundCalls:
    """What Session holds for its CALLs (set up by `_calls_start`)."""

    version: ClassVar[str]
    station_id: str
    remote: str
    ctx: ServerContext
    ws: Link
    closed: bool

    def _calls_start(self) -> None:
        self._call_lock = asyncio.Lock()
        self._pending: tuple[str, str, asyncio.Future[rpc.Frame]] | None = None

    def _write_now(self, data: bytes) -> bool:
        raise NotImplementedError  # Session's: log the frame and write it at once

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

    def _on_reply(self, frame: rpc.Frame) -> None:
        pending = self._pending
        if pending is None or pending[0] != frame.message_id:
            _LOGGER.warning("%s: reply to unknown message id %s dropped", self.station_id, frame.message_id,
                            extra=about(self.station_id, self.version, self.remote))
            return
        if not pending[2].done():
            pending[2].set_result(frame)
