"""A small Python client for the operator API (used by the TUI, the CLI and tests).

    async with ZaspotClient("ws://127.0.0.1:9000/api/websocket", token) as client:
        stations = await client.command("fleet/list")
        async for event in client.subscribe("status_changed"):
            ...
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from typing import Any

import orjson
import websockets
from websockets.exceptions import ConnectionClosed

DEFAULT_URL = "ws://127.0.0.1:9000/api/websocket"


class ApiError(Exception):
    def __init__(self, code: str, message: str, result: Any = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.result = result


class AuthError(ApiError):
    pass


class ZaspotClient:
    def __init__(self, url: str = DEFAULT_URL, token: str | None = None, *, ssl: Any = None) -> None:
        self.url = url
        self.token = token
        self.ssl = ssl
        self._ws: Any = None
        self._ids = itertools.count(1)
        self._results: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._events: dict[int, asyncio.Queue[dict[str, Any] | None]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def connect(self) -> ZaspotClient:
        kwargs = {"ssl": self.ssl} if self.ssl is not None else {}
        self._ws = await websockets.connect(self.url, max_size=None, compression=None, **kwargs)
        hello = orjson.loads(await self._ws.recv())
        if hello.get("type") != "auth_required":
            raise ApiError("protocol", f"unexpected greeting {hello!r}")
        await self._ws.send(orjson.dumps({"type": "auth", "access_token": self.token}).decode())
        answer = orjson.loads(await self._ws.recv())
        if answer.get("type") != "auth_ok":
            await self._ws.close()
            raise AuthError("auth_invalid", answer.get("message", "authentication failed"))
        self._reader = asyncio.get_running_loop().create_task(self._read_loop(), name="zaspot-client")
        return self

    async def close(self) -> None:
        if self._reader:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        if self._ws:
            await self._ws.close()

    async def __aenter__(self) -> ZaspotClient:
        return await self.connect()

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    @property
    def connected(self) -> bool:
        return self._ws is not None and self._reader is not None and not self._reader.done()

    async def command(self, message_type: str, /, *, timeout: float | None = 60, **data: Any) -> Any:
        """Send one command; returns its result or raises ApiError with the server's code."""
        msg_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._results[msg_id] = future
        try:
            await self._ws.send(orjson.dumps({"id": msg_id, "type": message_type, **data}).decode())
            reply = await asyncio.wait_for(future, timeout)
        finally:
            self._results.pop(msg_id, None)
        if not reply.get("success"):
            error = reply.get("error") or {}
            raise ApiError(error.get("code", "error"), error.get("message", ""), reply.get("result"))
        return reply.get("result")

    async def subscribe(self, event_type: str | None = None,
                        station_id: str | None = None) -> AsyncIterator[dict[str, Any]]:
        """Live events until the connection closes (then the iterator ends)."""
        msg_id = next(self._ids)
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._events[msg_id] = queue
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._results[msg_id] = future
        payload = {"id": msg_id, "type": "subscribe_events"}
        payload |= {k: v for k, v in (("event_type", event_type), ("station_id", station_id)) if v}
        await self._ws.send(orjson.dumps(payload).decode())
        reply = await future
        if not reply.get("success"):
            error = reply.get("error") or {}
            raise ApiError(error.get("code", "error"), error.get("message", ""))
        return self._iterate(msg_id, queue)

    async def _iterate(self, msg_id: int, queue: asyncio.Queue[dict[str, Any] | None]) -> AsyncIterator[dict[str, Any]]:
        try:
            while (event := await queue.get()) is not None:
                yield event
        finally:
            self._events.pop(msg_id, None)

    async def _read_loop(self) -> None:
        try:
            async for raw in self._ws:
                msg = orjson.loads(raw)
                if msg.get("type") == "event" and msg.get("id") in self._events:
                    self._events[msg["id"]].put_nowait(msg["event"])
                elif msg.get("id") in self._results:
                    future = self._results.pop(msg["id"])
                    if not future.done():  # its caller may have been cancelled as the reply came
                        future.set_result(msg)
        except ConnectionClosed:
            pass
        finally:
            for future in self._results.values():
                if not future.done():
                    future.set_exception(ApiError("disconnected", "connection to zaspot closed"))
            for queue in self._events.values():
                queue.put_nowait(None)
