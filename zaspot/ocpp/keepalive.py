"""WebSocket pings for every connection, from one task.

A station that sends nothing is still there while it answers pings (its pongs move
last_seen: ocpp/liveness.py). Each connection is pinged every `interval` seconds; one
whose pong has not come `timeout` seconds after its ping is closed (1011), as
websockets' keepalive did. picows has a keepalive of its own, but it wants the
timeout no longer than the interval and a task per connection; one task walking
the connections a few times per interval costs a few ms a second for 15,000.
"""

from __future__ import annotations

import asyncio
import time

from zaspot.ocpp.link import Link

TIMEOUT_CODE, TIMEOUT_REASON = 1011, "keepalive ping timeout"


class Keepalive:
    def __init__(self, interval: float, timeout: float | None) -> None:
        self.interval = interval
        self.timeout = timeout
        self.links: set[Link] = set()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="keepalive")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        tick = min(self.interval, self.timeout or self.interval) / 4
        while True:
            await asyncio.sleep(tick)
            self.check(time.monotonic())

    def check(self, now: float) -> None:
        """Ping who is due; close who did not answer in time."""
        interval, timeout = self.interval, self.timeout
        for link in list(self.links):
            if link.closed:
                self.links.discard(link)
                continue
            sent = link.ping_sent
            if sent is not None and timeout is not None:  # waiting for its pong
                if now - sent > timeout:
                    link.abort(TIMEOUT_CODE, TIMEOUT_REASON)
                continue
            if now - link.pinged_at >= interval:
                link.ping(now)
