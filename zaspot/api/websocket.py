"""The operator API on /api/websocket, Home Assistant style.

    server: {"type": "auth_required"}
    client: {"type": "auth", "access_token": "…"}
    server: {"type": "auth_ok"} | {"type": "auth_invalid", "message": "…"} (then closes)
    client: {"id": 1, "type": "fleet/list"}
    server: {"id": 1, "type": "result", "success": true, "result": […]}
    server: {"id": 2, "type": "event", "event": {…}}          (subscriptions)

Each connection sends through one bounded queue: a client that stops reading
is disconnected instead of holding memory or slowing anyone else down.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from typing import TYPE_CHECKING, Any

import orjson

from zaspot import __version__
from zaspot.api.auth import is_loopback
from zaspot.api.registry import HANDLERS, ApiError
from zaspot.core.registry import API_COMMAND
from zaspot.ocpp.link import LinkClosed

if TYPE_CHECKING:
    from zaspot.ocpp.commands import Commands
    from zaspot.ocpp.context import ServerContext

_LOGGER = logging.getLogger(__name__)

AUTH_TIMEOUT = 10.0
SEND_QUEUE = 2000


class ApiConnection:
    def __init__(self, ws: Any, ctx: ServerContext, commands: Commands) -> None:
        self.ws = ws
        self.ctx = ctx
        self.commands = commands
        self.user: str | None = None
        self.subscriptions: dict[int, Any] = {}  # id -> unsubscribe
        self._outbox: asyncio.Queue[bytes] = asyncio.Queue(SEND_QUEUE)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._cut_off = False  # too slow: closing, nothing more is queued

    async def run(self) -> None:
        try:
            await self.ws.send(orjson.dumps({"type": "auth_required", "zaspot_version": __version__}), text=True)
            if not await self._authenticate():
                return
            writer = asyncio.get_running_loop().create_task(self._write_loop(), name="api-writer")
            try:
                async for raw in self.ws:
                    self._dispatch(raw)
            finally:
                writer.cancel()
                await asyncio.gather(writer, return_exceptions=True)
        except LinkClosed:
            pass
        finally:
            for unsubscribe in self.subscriptions.values():
                unsubscribe()
            for task in list(self._tasks):
                task.cancel()

    async def _authenticate(self) -> bool:
        try:
            msg = orjson.loads(await asyncio.wait_for(self.ws.recv(), AUTH_TIMEOUT))
        except (TimeoutError, orjson.JSONDecodeError):
            msg = None
        token = msg.get("access_token") if isinstance(msg, dict) and msg.get("type") == "auth" else None
        reason = await self._check_token(token)
        if reason is not None:
            self.ctx.metrics.handshakes_refused["api_auth"] += 1
            await self.ws.send(orjson.dumps({"type": "auth_invalid", "message": reason}), text=True)
            await self.ws.close(1008, "authentication failed")
            return False
        await self.ws.send(orjson.dumps({"type": "auth_ok", "zaspot_version": __version__}), text=True)
        return True

    async def _check_token(self, token: Any) -> str | None:
        store = self.ctx.store
        if isinstance(token, str) and token:
            self.user = await store.api_token_name(token)
            if self.user:
                return None
            return "invalid or revoked access token"
        remote = self.ws.remote_address[0] if self.ws.remote_address else None
        if await store.has_api_tokens():
            return "an access token is required (create one with `zaspot token create NAME`)"
        if is_loopback(remote):
            self.user = "local"
            return None
        return "no tokens are configured, so only local (loopback) clients may connect"

    # --- commands ----------------------------------------------------------

    def _dispatch(self, raw: str | bytes) -> None:
        try:
            msg = orjson.loads(raw)
        except orjson.JSONDecodeError:
            self.send({"id": None, "type": "result", "success": False,
                       "error": {"code": "invalid_format", "message": "message is not JSON"}})
            return
        if not isinstance(msg, dict) or not isinstance(msg.get("id"), int) or not isinstance(msg.get("type"), str):
            self.send({"id": msg.get("id") if isinstance(msg, dict) else None, "type": "result", "success": False,
                       "error": {"code": "invalid_format", "message": 'expected {"id": int, "type": str, …}'}})
            return
        # Each command in its own task: a slow station never holds up the next command.
        task = asyncio.get_running_loop().create_task(self._run_command(msg), name=f"api:{msg['type']}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_command(self, msg: dict[str, Any]) -> None:
        msg_id, kind = msg["id"], msg["type"]
        handler = HANDLERS.get(kind) or self._plugin_handler(kind)
        try:
            if handler is None:
                raise ApiError("unknown_command", f"unknown command type {kind!r}")
            result = await handler(self, msg)
        except ApiError as exc:
            self.send({"id": msg_id, "type": "result", "success": False,
                       "error": {"code": exc.code, "message": exc.message}, "result": exc.result})
            return
        except Exception as exc:
            _LOGGER.exception("API command %s failed", kind)
            self.send({"id": msg_id, "type": "result", "success": False,
                       "error": {"code": "internal_error", "message": f"{type(exc).__name__}: {exc}"}})
            return
        self.send({"id": msg_id, "type": "result", "success": True, "result": result})

    def _plugin_handler(self, kind: str) -> Any:
        """An API command a plugin registered (e.g. the built-in `notify`)."""
        item = self.ctx.registry.get(API_COMMAND, kind)
        if item is None:
            return None

        async def call_plugin(conn: ApiConnection, msg: dict[str, Any]) -> Any:
            result = item.obj(msg)
            return await result if inspect.isawaitable(result) else result

        return call_plugin

    # --- sending -------------------------------------------------------------

    def send(self, message: dict[str, Any]) -> None:
        try:
            data = orjson.dumps(message, default=str, option=orjson.OPT_NON_STR_KEYS)
        except TypeError as exc:  # never leave a client waiting on an answer we can't encode
            _LOGGER.exception("API result for %s cannot be encoded", message.get("id"))
            data = orjson.dumps({"id": message.get("id"), "type": "result", "success": False,
                                 "error": {"code": "internal_error", "message": f"result not encodable: {exc}"}})
        if self._cut_off:
            return
        try:
            self._outbox.put_nowait(data)
        except asyncio.QueueFull:
            self._cut_off = True
            _LOGGER.warning("API client %s is not reading; disconnecting it", self.user)
            self.ctx.metrics.handshakes_refused["api_slow_client"] += 1
            task = asyncio.get_running_loop().create_task(self.ws.close(1008, "client too slow"))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _write_loop(self) -> None:
        while True:
            data = await self._outbox.get()
            await self.ws.send(data, text=True)
