"""Keeps the normalized events rules read in the store, for replay (`zaspot rules test`).

Off the hot path: a bus listener only appends to a buffer; a flush task writes the
buffer in one statement every FLUSH_S seconds (or sooner when it fills up).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from zaspot.core.bus import EventBus
from zaspot.core.events import Event

_LOGGER = logging.getLogger("zaspot.rules")
FLUSH_S = 0.5
FLUSH_AT = 500
# What trigger platforms read. device_event and command_* are stored elsewhere already.
RECORDED = (
    "station_connected", "station_disconnected", "station_offline", "station_online", "station_booted",
    "status_changed", "temperature", "meter_sample", "transaction_started", "transaction_ended",
    "fault", "power_module", "alarm_raised", "alarm_cleared", "price_updated", "rule_event",
)
# Already kept in a table of their own, from which replay rebuilds them: storing them
# again would double the biggest table and cost a JSON encoding per meter message.
KEPT_ELSEWHERE = ("meter_sample",)


class EventRecorder:
    def __init__(self, bus: EventBus, store: Any) -> None:
        self.bus, self.store = bus, store
        self._buffer: list[Event] = []
        self._wake = asyncio.Event()
        self._unsubs = [bus.listen(t, self._on_event, name="rules.recorder") for t in RECORDED
                        if t not in KEPT_ELSEWHERE]
        self._task = asyncio.get_running_loop().create_task(self._flush_loop(), name="rules.recorder")

    def _on_event(self, event: Event) -> None:
        if event.seq is not None:  # committed with the message that gave it: in the log already
            return
        self._buffer.append(event)
        if len(self._buffer) >= FLUSH_AT or not self._wake.is_set():
            self._wake.set()

    async def _flush_loop(self) -> None:
        while True:
            await self._wake.wait()
            if len(self._buffer) < FLUSH_AT:
                await asyncio.sleep(FLUSH_S)  # let a burst gather into one write
            self._wake.clear()
            await self.flush()

    async def flush(self) -> None:
        events, self._buffer = self._buffer, []
        if not events:
            return
        try:
            await self.store.record_events(events)
        except Exception:  # a full disk must not stop the server; replay just has a gap
            _LOGGER.exception("could not store %d events for replay", len(events))

    async def stop(self) -> None:
        for unsub in self._unsubs:
            unsub()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self.flush()
