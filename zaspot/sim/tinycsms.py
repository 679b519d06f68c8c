"""A minimal raw central system for tests of the simulator.

It answers station calls with the smallest schema-valid responses, checks every
frame the station sends (its CALLs and its answers) against the ocpp package's JSON
schemas, and lets a test send calls to a connected station:

    async with TinyCSMS() as csms:
        st = SimStation("CP1", csms.url, ...)
        ...
        kind, payload = await csms.call("CP1", "Reset", {"type": "Hard"})
        csms.invalid     # [] when every frame was schema-valid
"""
from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime
from typing import Any

import fastjsonschema
import orjson
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from . import schemas


def _now() -> str:
    return datetime.now(UTC).isoformat()


def minimal_response(version: str, action: str) -> dict[str, Any]:
    ok16, ok201 = {"idTagInfo": {"status": "Accepted"}}, {"idTokenInfo": {"status": "Accepted"}}
    table: dict[str, dict[str, Any]] = {
        "BootNotification": {"status": "Accepted", "currentTime": _now(), "interval": 60},
        "Heartbeat": {"currentTime": _now()},
        "Authorize": ok16 if version == "1.6" else ok201,
        "StartTransaction": {"transactionId": 4242, **ok16},
        "DataTransfer": {"status": "Accepted"},
    }
    return table.get(action, {})


class TinyCSMS:
    def __init__(self, boot_pending: int = 0):
        self.boot_pending = boot_pending          # answer the first N boots with Pending
        self.received: list[tuple[str, str, dict]] = []   # (station, action, payload)
        self.connections: list[tuple[str, str]] = []     # (station, subprotocol)
        self.invalid: list[str] = []
        self._ws: dict[str, ServerConnection] = {}
        self._versions: dict[str, str] = {}
        self._pending: dict[str, tuple[str, asyncio.Future]] = {}
        self._ids = itertools.count(1)
        self._server: Server | None = None
        self.url = ""

    async def __aenter__(self) -> TinyCSMS:
        self._server = server = await serve(self._handler, "127.0.0.1", 0,
                                            subprotocols=[Subprotocol("ocpp2.0.1"), Subprotocol("ocpp1.6")],
                                            compression=None)
        self.url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/ocpp"
        return self

    async def __aexit__(self, *exc) -> None:
        assert self._server is not None  # entered
        self._server.close()
        await self._server.wait_closed()

    def actions(self, station: str) -> list[str]:
        return [a for s, a, _ in self.received if s == station]

    def _check(self, version: str, action: str, payload: dict, response: bool) -> None:
        try:
            schemas.validate(version, action, payload, response=response)
        except (fastjsonschema.JsonSchemaException, FileNotFoundError) as exc:  # invalid, or no such action
            self.invalid.append(f"{action}{' response' if response else ''}: {exc}")

    async def _handler(self, ws) -> None:
        sid = ws.request.path.rstrip("/").rsplit("/", 1)[-1]
        version = "1.6" if ws.subprotocol == "ocpp1.6" else "2.0.1"
        self._ws[sid], self._versions[sid] = ws, version
        self.connections.append((sid, ws.subprotocol))
        try:
            async for raw in ws:
                await self._on_frame(sid, version, ws, orjson.loads(raw))
        except ConnectionClosed:
            pass

    async def _on_frame(self, sid: str, version: str, ws, msg: list) -> None:
        if msg[0] == 2:
            action, payload = msg[2], msg[3]
            self.received.append((sid, action, payload))
            self._check(version, action, payload, response=False)
            resp = minimal_response(version, action)
            if action == "BootNotification" and self.boot_pending > 0:
                self.boot_pending -= 1
                resp = {**resp, "status": "Pending", "interval": 1}
            await ws.send(orjson.dumps([3, msg[1], resp]).decode())
            return
        waiting = self._pending.pop(msg[1], None)
        if waiting is None:
            return
        action, fut = waiting
        if msg[0] == 3:
            self._check(version, action, msg[2], response=True)
            fut.set_result(("result", msg[2]))
        else:
            fut.set_result(("error", {"code": msg[2], "description": msg[3]}))

    async def call(self, sid: str, action: str, payload: dict, timeout: float = 5.0):
        """Send a CALL to a station; returns ("result"|"error", payload)."""
        mid = f"cs-{next(self._ids)}"
        fut = asyncio.get_running_loop().create_future()
        self._pending[mid] = (action, fut)
        await self._ws[sid].send(orjson.dumps([2, mid, action, payload]).decode())
        return await asyncio.wait_for(fut, timeout)

    async def wait_for(self, sid: str, action: str, count: int = 1, timeout: float = 5.0) -> dict:
        """Wait until the station sent `count` calls of `action`; returns the last."""
        async def poll():
            while True:
                hits = [p for s, a, p in self.received if s == sid and a == action]
                if len(hits) >= count:
                    return hits[-1]
                await asyncio.sleep(0.01)
        return await asyncio.wait_for(poll(), timeout)
