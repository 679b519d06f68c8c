"""Time for the engine: the real one, or a virtual one that replay steps through.

Both offer `now()`, `call_later(delay, fn, *args) -> handle.cancel()` and `sleep()`,
and `Scheduler.add(apscheduler_trigger, fn) -> remove` for time triggers.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger


class RealClock:
    def now(self) -> float:
        return time.time()

    def call_later(self, delay: float, fn: Callable[..., None], *args: Any) -> asyncio.TimerHandle:
        return asyncio.get_running_loop().call_later(delay, fn, *args)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class RealScheduler:
    """apscheduler's AsyncIOScheduler, started on first use."""

    def __init__(self) -> None:
        self._scheduler: AsyncIOScheduler | None = None

    def add(self, trigger: Any, fn: Callable[[float], None]) -> Callable[[], None]:
        if self._scheduler is None:
            self._scheduler = AsyncIOScheduler()
            self._scheduler.start()
        async def hand_over() -> None:  # a coroutine, so apscheduler runs it on our loop, not a thread
            fn(time.time())

        job = self._scheduler.add_job(hand_over, trigger, coalesce=True, misfire_grace_time=30)
        return lambda: _remove(job)

    def shutdown(self) -> None:
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)


def _remove(job: Any) -> None:
    try:
        job.remove()
    except JobLookupError:  # already gone (scheduler shut down first)
        pass


class _Timer:
    __slots__ = ("cancelled",)

    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class VirtualClock:
    """Replay's clock: time moves only when `advance(to)` says so; sleeps return at once."""

    def __init__(self, start: float) -> None:
        self._now = start
        self._timers: list[tuple[float, int, _Timer, Callable[..., None], tuple[Any, ...]]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    def call_later(self, delay: float, fn: Callable[..., None], *args: Any) -> _Timer:
        timer = _Timer()
        heapq.heappush(self._timers, (self._now + delay, next(self._seq), timer, fn, args))
        return timer

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(0)

    def advance(self, to: float) -> None:
        """Run every timer due up to `to`, in time order, with the clock at its time."""
        while self._timers and self._timers[0][0] <= to:
            when, _, timer, fn, args = heapq.heappop(self._timers)
            self._now = max(self._now, when)
            if not timer.cancelled:
                fn(*args)
        self._now = max(self._now, to)


class VirtualScheduler:
    """apscheduler triggers stepped on a VirtualClock (no scheduler thread, no real time)."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock

    def add(self, trigger: Any, fn: Callable[[float], None]) -> Callable[[], None]:
        state: dict[str, _Timer | None] = {"timer": None}

        def schedule(previous: datetime | None) -> None:
            if isinstance(trigger, IntervalTrigger):  # its start date is real time: count from the replay's
                state["timer"] = self.clock.call_later(trigger.interval_length, run, None)
                return
            now = datetime.fromtimestamp(self.clock.now(), UTC).astimezone()
            nxt = trigger.get_next_fire_time(previous, now)
            if nxt is not None:
                state["timer"] = self.clock.call_later(max(0.0, nxt.timestamp() - self.clock.now()), run, nxt)

        def run(when: datetime | None) -> None:
            fn(self.clock.now())
            schedule(when)

        schedule(None)

        def cancel() -> None:
            timer = state["timer"]
            if timer is not None:
                timer.cancel()

        return cancel

    def shutdown(self) -> None:
        pass
