"""Test helpers: a real `zaspot run` subprocess and a raw OCPP-J WebSocket client."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import orjson
import websockets

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ZaspotProcess:
    """`python -m zaspot run` on a free port with its own database file."""

    def __init__(self, db: Path, *extra: str, config: Path | None = None, tls: bool = False,
                 port: int | None = None) -> None:
        self.db = db
        self.tls = tls
        self.port = port or free_port()  # a fixed port: a restart that stations find where they left it
        self.extra = list(extra) + (["-c", str(config)] if config else [])
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = db.with_suffix(".log")

    @property
    def url(self) -> str:
        return f"{'wss' if self.tls else 'ws'}://127.0.0.1:{self.port}"

    def start(self) -> ZaspotProcess:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        cmd = [sys.executable, "-m", "zaspot", "run", "--host", "127.0.0.1", "--port", str(self.port),
               "--db", str(self.db), *self.extra]
        self._log_file = open(self.log, "ab")  # noqa: SIM115  (the process's output while it runs; stop() closes it)
        self.proc = subprocess.Popen(cmd, stdout=self._log_file, stderr=subprocess.STDOUT, env=env, cwd=self.db.parent)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"zaspot exited with {self.proc.returncode}:\n{self.log.read_text()}")
            try:
                self.get("/healthz")
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"zaspot did not start:\n{self.log.read_text()}")

    def get(self, path: str) -> tuple[int, bytes]:
        scheme = "https" if self.tls else "http"
        context = ssl._create_unverified_context() if self.tls else None  # the test CA is not what we probe
        try:
            with urllib.request.urlopen(f"{scheme}://127.0.0.1:{self.port}{path}", timeout=5, context=context) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def stop(self) -> int:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log_file.close()
        return self.proc.returncode if self.proc else 0

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self._log_file.close()


async def start_app(tmp_path: Path, db: str = "z.db", **ocpp: Any) -> Any:
    """A real in-process zaspot (App) on a free port, its own SQLite file, no rules; `app.url`."""
    from zaspot.app import App
    from zaspot.config import Config

    config = Config(host="127.0.0.1", port=0, db=str(tmp_path / db), rules=str(tmp_path / "rules"))
    config.ocpp.ping_interval = 0
    for key, value in ocpp.items():
        setattr(config.ocpp, key, value)
    app = App(config)
    await app.start()
    app.url = f"ws://127.0.0.1:{app.server.port}"
    return app


class OcppClient:
    """A bare OCPP-J client for crafting exact frames (good and bad)."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self._ids = itertools.count(1)
        self.inbox: list[list[Any]] = []  # CALLs the server sent us

    @classmethod
    async def connect(cls, url: str, station_id: str, version: str = "1.6") -> OcppClient:
        ws = await websockets.connect(f"{url}/ocpp/{station_id}", subprotocols=[f"ocpp{version}"])
        return cls(ws)

    async def send_raw(self, data: str | bytes) -> list[Any]:
        await self.ws.send(data)
        return await self.reply()

    async def reply(self, timeout: float = 10) -> list[Any]:
        """The next CALLRESULT / CALLERROR (CALLs from the server are kept in inbox)."""
        while True:
            frame = orjson.loads(await asyncio.wait_for(self.ws.recv(), timeout))
            if frame[0] == 2:
                self.inbox.append(frame)
                continue
            return frame

    async def call(self, action: str, payload: dict[str, Any]) -> list[Any]:
        message_id = str(next(self._ids))
        frame = await self.send_raw(orjson.dumps([2, message_id, action, payload]).decode())
        assert frame[1] == message_id, frame
        return frame

    async def boot(self, vendor: str = "Acme", model: str = "Wallbox") -> list[Any]:
        if self.ws.subprotocol == "ocpp1.6":
            return await self.call("BootNotification", {"chargePointVendor": vendor, "chargePointModel": model})
        return await self.call(
            "BootNotification", {"chargingStation": {"vendorName": vendor, "model": model}, "reason": "PowerUp"}
        )

    async def close(self) -> None:
        await self.ws.close()


async def until(check, timeout: float = 15.0, what: str = "") -> Any:
    """Poll a sync or async condition until it gives something true; that value."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"not within {timeout} s: {what or check}")
        await asyncio.sleep(0.02)
