"""Is each station still there: its last-seen time written in batches, and the offline watchdog.

The fleet state holds the one last-seen time a station has (`StationState.last_seen`).
The session sets it on every inbound frame (one attribute write), the connection on
every pong (see link.Link.on_pong). This module only reads it:

- The flush. A Heartbeat or a pong carries no data, only "still here": writing it
  durably before the answer would make half of a station's messages wait for a commit
  for nothing. Every FLUSH_EVERY seconds, the stations whose last-seen time moved since
  the last flush are written, CHUNK per write: 15,000 in one transaction would hold every
  MeterValues commit behind it for tens of milliseconds. A chunk that could not be
  written is written at the next flush, with the newest time. Connect, boot and
  disconnect still write last_seen at once.
- The watchdog. A connected station not heard from (no frame, no pong) for
  `ocpp.offline_timeout` seconds is reported offline once (`StationOffline`), and online
  again (`StationOnline`) once it is heard from: committed to the event log, then fired,
  as a station message's events are. It runs while the OCPP server runs.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from zaspot.core import events as ev
from zaspot.store.publish import publish
from zaspot.store.unit import Unit

if TYPE_CHECKING:
    from zaspot.ocpp.context import ServerContext

_LOGGER = logging.getLogger(__name__)
FLUSH_EVERY = 10.0
CHUNK = 1000  # about 5 ms of SQLite work
MIN_CHECK_EVERY = 1.0  # a zero or tiny offline timeout must not spin the loop
MAX_CHECK_EVERY = 30.0
OFFLINE_REASON = "no message or pong"


class Liveness:
    def __init__(self, ctx: ServerContext) -> None:
        self.ctx = ctx
        # What the database holds (or was last sent), by station: the flush writes what moved.
        self._flushed: dict[str, float] = {sid: s.last_seen for sid, s in ctx.fleet.stations.items()}
        self._task: asyncio.Task[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None

    # --- the flush -------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="last-seen")

    async def stop(self) -> None:
        await self.unwatch()
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self.flush()

    def _moved(self) -> list[tuple[str, float]]:
        flushed = self._flushed
        return [
            (sid, s.last_seen) for sid, s in self.ctx.fleet.stations.items()
            if s.last_seen > flushed.get(sid, 0.0)
        ]

    async def flush(self) -> None:
        seen = self._moved()
        for i in range(0, len(seen), CHUNK):
            chunk = seen[i:i + CHUNK]
            await self.ctx.store.heartbeats(chunk)  # a failure leaves it unmarked: the next flush retries it
            self._flushed.update(chunk)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_EVERY)
            try:
                await self.flush()
            except Exception:  # a locked or full disk: try again next time
                _LOGGER.exception("could not write last-seen times")

    # --- the offline watchdog --------------------------------------------

    def watch(self) -> None:
        """Start the watchdog (the OCPP server does, as it starts listening)."""
        if self._watchdog is None:
            self._watchdog = asyncio.get_running_loop().create_task(self._watch(), name="offline-watchdog")

    async def unwatch(self) -> None:
        if self._watchdog:
            self._watchdog.cancel()
            await asyncio.gather(self._watchdog, return_exceptions=True)
            self._watchdog = None

    def check_every(self) -> float:
        """A quarter of the offline timeout, within [MIN_CHECK_EVERY, MAX_CHECK_EVERY]."""
        return max(MIN_CHECK_EVERY, min(MAX_CHECK_EVERY, self.ctx.config.ocpp.offline_timeout / 4))

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.check_every())
            try:
                unit = Unit()
                for event in self.check(time.time()):
                    unit.emit(event)
                if unit.events:
                    await publish(self.ctx.store, self.ctx.bus, unit)
            except Exception:  # our bug, or a full disk: keep watching
                _LOGGER.exception("offline check failed")

    def check(self, now: float) -> list[ev.Event]:
        """Connected stations silent since before the cutoff go offline, heard-from ones online:
        the events that say so (the fleet state's `online` is set at once)."""
        cutoff = now - self.ctx.config.ocpp.offline_timeout
        out: list[ev.Event] = []
        for session in list(self.ctx.sessions.values()):
            state = session.state  # the fleet's record: `online` is the one flag there is
            if not state.connected:  # its connect is not committed yet
                continue
            if state.last_seen < cutoff:
                if state.online:
                    state.online = False
                    out.append(ev.StationOffline(session.station_id, state.last_seen, OFFLINE_REASON))
            elif not state.online:
                state.online = True
                out.append(ev.StationOnline(session.station_id))
        return out
