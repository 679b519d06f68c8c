"""The event bus: fan-out of normalized events to isolated listeners.

`fire()` is synchronous and never waits: each listener has its own bounded
queue and worker task, so a slow rule or notifier cannot delay a station's
socket. When a listener's queue is full the event is dropped for that
listener only and counted (visible in /metrics).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from zaspot.core.events import Event

_LOGGER = logging.getLogger(__name__)

Listener = Callable[[Event], Awaitable[None] | None]
MATCH_ALL = "*"


class _Subscription:
    __slots__ = ("name", "callback", "queue", "task", "drops", "handled", "failures")

    def __init__(self, name: str, callback: Listener, queue_size: int) -> None:
        self.name = name
        self.callback = callback
        self.queue: asyncio.Queue[Event] = asyncio.Queue(queue_size)
        self.task: asyncio.Task[None] | None = None
        self.drops = 0
        self.handled = 0
        self.failures = 0

    async def run(self) -> None:
        while True:
            event = await self.queue.get()
            try:
                result = self.callback(event)
                if result is not None and inspect.isawaitable(result):
                    await result
            except Exception:  # one bad listener never breaks the others
                self.failures += 1
                _LOGGER.exception("listener %s failed on %s", self.name, event.type)
            self.handled += 1
            self.queue.task_done()


class EventBus:
    def __init__(self, default_queue_size: int = 10_000) -> None:
        self._by_type: dict[str, list[_Subscription]] = {}
        self._default_queue_size = default_queue_size
        self.fired = 0

    def listen(
        self,
        event_type: str,
        callback: Listener,
        *,
        name: str | None = None,
        queue_size: int | None = None,
    ) -> Callable[[], None]:
        """Subscribe to one event type (or "*" for all). Returns the unsubscribe function."""
        sub = _Subscription(
            name or getattr(callback, "__qualname__", repr(callback)),
            callback,
            queue_size or self._default_queue_size,
        )
        sub.task = asyncio.get_running_loop().create_task(sub.run(), name=f"bus:{sub.name}")
        self._by_type.setdefault(event_type, []).append(sub)

        def unsubscribe() -> None:
            subs = self._by_type.get(event_type, [])
            if sub in subs:
                subs.remove(sub)
            if sub.task is not None:
                sub.task.cancel()

        return unsubscribe

    def fire(self, event: Event) -> None:
        self.fired += 1
        for key in (event.type, MATCH_ALL):
            for sub in self._by_type.get(key, ()):
                try:
                    sub.queue.put_nowait(event)
                except asyncio.QueueFull:
                    sub.drops += 1

    def has_listeners(self, event_type: str) -> bool:
        return bool(self._by_type.get(event_type) or self._by_type.get(MATCH_ALL))

    def stats(self) -> list[dict[str, Any]]:
        return [
            {
                "listener": s.name,
                "event_type": t,
                "queued": s.queue.qsize(),
                "handled": s.handled,
                "dropped": s.drops,
                "failed": s.failures,
            }
            for t, subs in self._by_type.items()
            for s in subs
        ]

    @property
    def dropped(self) -> int:
        return sum(s.drops for subs in self._by_type.values() for s in subs)

    async def drain(self) -> None:
        """Wait until every listener has handled what was fired so far (tests, shutdown)."""
        for subs in list(self._by_type.values()):
            for s in list(subs):
                await s.queue.join()

    async def close(self) -> None:
        tasks = [s.task for subs in self._by_type.values() for s in subs if s.task]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._by_type.clear()
