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
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from zaspot.core.events import Event

_LOGGER = logging.getLogger(__name__)

Listener = Callable[[Event], Awaitable[None] | None]
MATCH_ALL = "*"


class _Subscription:
    __slots__ = ("callback", "drops", "failures", "handled", "inline", "name", "queue", "task")

    def __init__(self, name: str, callback: Listener, queue_size: int, inline: bool) -> None:
        self.name = name
        self.callback = callback
        self.inline = inline
        self.queue: asyncio.Queue[Event] | None = None if inline else asyncio.Queue(queue_size)
        self.task: asyncio.Task[None] | None = None
        self.drops = 0
        self.handled = 0
        self.failures = 0

    def call_inline(self, event: Event) -> None:
        try:
            self.callback(event)
        except Exception:
            self.failures += 1
            _LOGGER.exception("listener %s failed on %s", self.name, event.type)
        self.handled += 1

    async def run(self) -> None:
        assert self.queue is not None
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


class Subscription:
    """What `listen` returns: call it to unsubscribe; `set_types` re-aims the same
    queue (a rules reload changes what the engine needs without losing queued events)."""

    def __init__(self, bus: EventBus, sub: _Subscription, types: tuple[str, ...]) -> None:
        self._bus, self._sub = bus, sub
        self.types: tuple[str, ...] = ()
        self.set_types(types)

    def set_types(self, types: Iterable[str]) -> None:
        table = self._bus._by_type
        for t in self.types:
            if self._sub in table.get(t, ()):
                table[t].remove(self._sub)
        self.types = tuple(dict.fromkeys(types))
        for t in self.types:
            table.setdefault(t, []).append(self._sub)

    @property
    def drops(self) -> int:
        """Events this subscription's full queue had to drop so far."""
        return self._sub.drops

    def __call__(self) -> None:
        self.set_types(())
        if self._sub.task is not None:
            self._sub.task.cancel()


class EventBus:
    def __init__(self, default_queue_size: int = 10_000) -> None:
        self._by_type: dict[str, list[_Subscription]] = {}
        self._default_queue_size = default_queue_size
        self.fired = 0

    def listen(
        self,
        event_types: str | Iterable[str],
        callback: Listener,
        *,
        name: str | None = None,
        queue_size: int | None = None,
        inline: bool = False,
    ) -> Subscription:
        """Subscribe to one event type, several (one queue, in firing order), or "*" for all.

        Returns the unsubscribe function. `inline=True` is for cheap, synchronous,
        trusted listeners (the fleet state): called inside `fire`, no queue, no task.
        """
        label: str = name or getattr(callback, "__qualname__", None) or repr(callback)
        sub = _Subscription(
            label,
            callback,
            queue_size or self._default_queue_size,
            inline,
        )
        if not inline:
            sub.task = asyncio.get_running_loop().create_task(sub.run(), name=f"bus:{sub.name}")
        types = (event_types,) if isinstance(event_types, str) else tuple(event_types)
        return Subscription(self, sub, types)

    def fire(self, event: Event) -> None:
        self.fired += 1
        for key in (event.type, MATCH_ALL):
            for sub in self._by_type.get(key, ()):
                if sub.inline:
                    sub.call_inline(event)
                    continue
                try:
                    sub.queue.put_nowait(event)  # type: ignore[union-attr]
                except asyncio.QueueFull:
                    sub.drops += 1

    def has_listeners(self, event_type: str) -> bool:
        return bool(self._by_type.get(event_type) or self._by_type.get(MATCH_ALL))

    def _subscriptions(self) -> dict[_Subscription, list[str]]:
        """Each subscription once, with the types it listens to."""
        out: dict[_Subscription, list[str]] = {}
        for event_type, subs in self._by_type.items():
            for sub in subs:
                out.setdefault(sub, []).append(event_type)
        return out

    def stats(self) -> list[dict[str, Any]]:
        return [
            {
                "listener": s.name,
                "event_types": types,
                "queued": s.queue.qsize() if s.queue else 0,
                "handled": s.handled,
                "dropped": s.drops,
                "failed": s.failures,
            }
            for s, types in self._subscriptions().items()
        ]

    @property
    def dropped(self) -> int:
        return sum(s.drops for s in self._subscriptions())

    async def drain(self) -> None:
        """Wait until every listener has handled what was fired so far (tests, shutdown)."""
        for s in list(self._subscriptions()):
            if s.queue is not None:
                await s.queue.join()

    async def close(self) -> None:
        tasks = [s.task for s in self._subscriptions() if s.task]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._by_type.clear()
