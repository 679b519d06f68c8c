"""A lean idle station for the scale, storm and reaction scenarios: one WebSocket, one
CALL at a time, pre-serialized payloads, and little else, so that 15,000 of them fit in
a few load processes.
"""
from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect

from .load import SUBPROTOCOL, boot_payload, meter_payload

HEARTBEAT, METER = (b"Heartbeat", b"{}"), b"MeterValues"


class CallFailed(Exception):
    """The central system answered with a CALLERROR or not at all."""


class IdleStation:
    __slots__ = ("n", "on_call", "sid", "timeout", "url", "version", "ws")

    def __init__(self, url: str, sid: str, version: str, timeout: float = 30.0):
        self.url, self.sid, self.version, self.timeout = f"{url.rstrip('/')}/{sid}", sid, version, timeout
        self.ws: ClientConnection | None = None
        self.n = 0
        # (msg) -> answer frame for the server's own CALLs; None: NotImplemented
        self.on_call: Callable[[list[Any]], list[Any] | None] | None = None

    @property
    def link(self) -> ClientConnection:
        """The connection open() made."""
        assert self.ws is not None, f"{self.sid}: not open"
        return self.ws

    async def open(self, open_timeout: float) -> None:
        # Small queues and no compression: client memory per connection stays small.
        self.ws = await connect(self.url, subprotocols=[SUBPROTOCOL[self.version]], compression=None,
                                ping_interval=None, open_timeout=open_timeout, close_timeout=1,
                                max_queue=4, proxy=None, user_agent_header=None)

    async def boot(self) -> bool:
        """BootNotification; True when Accepted."""
        answer = await self.call(b"BootNotification", orjson.dumps(boot_payload(self.version, self.sid)))
        return answer.get("status") == "Accepted"

    async def call(self, action: bytes, payload: bytes) -> dict:
        """One CALL; returns the CALLRESULT payload, raises CallFailed otherwise."""
        self.n += 1
        mid = b"%d" % self.n
        ws = self.link
        await ws.send(b'[2,"%s","%s",%s]' % (mid, action, payload), text=True)
        try:
            async with asyncio.timeout(self.timeout):
                while True:
                    msg = orjson.loads(await ws.recv(decode=False))
                    if msg[0] == 2:
                        await self.answer(msg)
                    elif msg[1] == mid.decode():
                        if msg[0] != 3:
                            raise CallFailed(f"{action.decode()}: {msg[2]}")
                        return msg[2]
        except TimeoutError:
            raise CallFailed(f"{action.decode()}: no answer in {self.timeout}s") from None

    async def answer(self, msg: list) -> None:
        frame = self.on_call(msg) if self.on_call else None
        if frame is None:
            frame = [4, msg[1], "NotImplemented", "bench station", {}]
        await self.link.send(orjson.dumps(frame), text=True)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


async def open_with_retry(st: IdleStation, deadline: float, open_timeout: float) -> int:
    """Connect and boot until accepted or `deadline` (time.monotonic()); returns the
    number of retries. Raises the last error when the deadline passes."""
    retries = 0
    while True:
        try:
            await st.open(min(open_timeout, max(0.1, deadline - time.monotonic())))
            if await st.boot():
                return retries
            raise CallFailed("BootNotification not accepted")
        except Exception:
            await st.close()
            st.ws = None
            if time.monotonic() + 0.5 >= deadline:
                raise
            retries += 1
            await asyncio.sleep(random.uniform(0.2, 1.0))  # jitter: don't re-storm in lockstep


def schedule(rng: random.Random, start: float, interval: float, duration: float) -> list[tuple[float, bool]]:
    """A station's send times over the run: a heartbeat and a meter value every
    `interval` s, the first of each at a random point of the first interval so that
    the fleet's load is spread evenly from the start. (time, is_meter) pairs, sorted."""
    out = []
    for is_meter in (False, True):
        t = start + rng.uniform(0, interval)
        while t < start + duration:
            out.append((t, is_meter))
            t += interval
    return sorted(out)


async def run_schedule(st: IdleStation, times: list[tuple[float, bool]], latencies: list[float]) -> int:
    """Send on schedule, appending each answer's latency; returns the error count."""
    meter = orjson.dumps(meter_payload(st.version))
    errors = 0
    for when, is_meter in times:
        delay = when - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        t0 = time.perf_counter()
        try:
            await st.call(*((METER, meter) if is_meter else HEARTBEAT))
        except CallFailed:
            errors += 1
            continue
        except Exception:
            return errors + 1  # connection lost: this station is done
        latencies.append(time.perf_counter() - t0)
    return errors
