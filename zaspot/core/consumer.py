"""A consumer of the event log that resumes where it was after a restart.

The bus is the fast path: a committed event reaches the consumer in memory at once.
The log is the memory: the consumer's position (the seq of the last event it has
handled) is saved, and on start it first reads what the log holds after that
position, so an event committed just before a crash, or dropped from a full bus
queue, is handled late rather than never (a drop is noticed at the next event
and read back from the log at once). Delivery is at least once: a consumer
whose effects are not committed with its position must be idempotent.

    consumer = LogConsumer("alarms", ctx.bus, ctx.store, types, handle)
    await consumer.start()        # catch up from the log, then follow the bus
    await consumer.stop()         # save the position

Events the log does not keep (meter samples) have no seq; they come by bus only.

A consumer's own outputs are committed and then fired with zaspot.store.publish, as a
station message's are.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from zaspot.core.bus import EventBus
from zaspot.core.events import Event

_LOGGER = logging.getLogger(__name__)
SAVE_EVERY = 1.0  # seconds between position writes while events flow

Handle = Callable[[Event], Awaitable[None] | None]


class LogConsumer:
    def __init__(self, name: str, bus: EventBus, store: Any, types: Iterable[str], handle: Handle, *,
                 queue_size: int | None = None, new_from: int | None = None) -> None:
        self.name, self.bus, self.store = name, bus, store
        self.types = tuple(types)
        self.handle = handle
        self.queue_size = queue_size
        # Where a consumer with no saved position starts: the log's end when this run of
        # the server began (what this run committed before the consumer started is its
        # business), or the end of the log now.
        self.new_from = new_from
        self.position = 0  # the last seq handled
        self.saved = 0
        self.caught_up = 0  # events read back from the log at start
        self.floor: Callable[[], int | float] | None = None  # a lower safe position (work in flight)
        self._lock = asyncio.Lock()
        self._unlisten: Any = None
        self._drops_seen = 0
        self._saver: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._lock.acquire()  # bus events wait until the log is read
        try:
            self._unlisten = self.bus.listen(self.types, self._on_bus, name=self.name, queue_size=self.queue_size)
            saved = await self.store.position(self.name)
            if saved is None:  # a new consumer: none of the history before this run is its business
                saved = self.new_from if self.new_from is not None else await self.store.log_end()
                await self.store.save_position(self.name, saved)
            self.position = self.saved = saved
            await self._catch_up()
        finally:
            self._lock.release()
        self._saver = asyncio.get_running_loop().create_task(self._save_loop(), name=f"{self.name}.position")

    def set_types(self, types: Iterable[str]) -> None:
        """Follow other event types from now on (a rules reload)."""
        self.types = tuple(types)
        if self._unlisten is not None:
            self._unlisten.set_types(self.types)

    async def _catch_up(self) -> None:
        while True:
            events = await self.store.log_after(self.position, self.types)
            if not events:
                return
            for event in events:
                await self._deliver(event)
            self.caught_up += len(events)
            _LOGGER.info("%s: caught up on %d event(s) from the log (now at %d)", self.name, len(events),
                         self.position)

    async def _on_bus(self, event: Event) -> None:
        async with self._lock:
            drops = self._unlisten.drops if self._unlisten is not None else 0
            if drops != self._drops_seen:  # the bus dropped some for us: the log has them
                self._drops_seen = drops
                await self._catch_up()
            await self._deliver(event)

    async def _deliver(self, event: Event) -> None:
        seq = event.seq
        if seq is not None and seq <= self.position:
            return  # read back from the log already
        try:
            result = self.handle(event)
            if result is not None:
                await result
        except Exception:  # one bad event never stops the consumer
            _LOGGER.exception("%s failed on %s (seq %s)", self.name, event.type, seq)
        if seq is not None:
            self.position = seq

    def safe_position(self) -> int:
        return int(min(self.position, self.floor())) if self.floor is not None else self.position

    async def save(self) -> None:
        position = self.safe_position()
        if position > self.saved:
            await self.store.save_position(self.name, position)
            self.saved = position

    async def _save_loop(self) -> None:
        while True:
            await asyncio.sleep(SAVE_EVERY)
            try:
                await self.save()
            except Exception:  # a full disk: the next try may work; a restart re-reads a bit more
                _LOGGER.exception("%s: could not save its position", self.name)

    async def stop(self) -> None:
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        if self._saver is not None:
            self._saver.cancel()
            await asyncio.gather(self._saver, return_exceptions=True)
            self._saver = None
        try:
            await self.save()
        except Exception:
            _LOGGER.exception("%s: could not save its position", self.name)
