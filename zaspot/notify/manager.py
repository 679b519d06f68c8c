"""Fan-out: each admitted notification goes to every notifier it targets, each through
its own bounded queue and worker task, so a slow or failing notifier never holds up
another, a rule, or a station's socket. Counters for everything dropped."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from dataclasses import dataclass, field
from typing import Any

from zaspot.config import NotifyPolicy
from zaspot.notify.base import Notification, Notifier
from zaspot.notify.policy import ADMITTED, NotifyGate

_LOGGER = logging.getLogger("zaspot.notify")
QUEUE_SIZE = 100  # per notifier: plenty behind a rate limit; beyond it the newest are dropped
NO_NOTIFIER, DROPPED = "no_notifier", "dropped"


@dataclass
class _Channel:
    name: str
    notifier: Notifier
    queue: asyncio.Queue[Notification] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    task: asyncio.Task[None] | None = None
    delivered: int = 0
    failed: int = 0
    dropped: int = 0

    async def run(self) -> None:
        while True:
            n = await self.queue.get()
            try:
                await self.notifier.send(n)
                self.delivered += 1
            except Exception as exc:  # noqa: BLE001  (logged, and the next notification still goes out)
                self.failed += 1
                _LOGGER.warning("notifier %s could not deliver %r: %s", self.name, n.message[:80], exc)
            finally:
                self.queue.task_done()


class NotifyManager:
    def __init__(self, policy: NotifyPolicy, gate: NotifyGate | None = None) -> None:
        self.gate = gate or NotifyGate(policy)
        self.channels: dict[str, _Channel] = {}
        # Notifications sent while plugins are still being set up wait here for the notifiers.
        self._early: list[Notification] | None = []

    def add(self, name: str, notifier: Notifier) -> None:
        if name in self.channels:
            raise ValueError(f"a notifier named '{name}' is already configured")
        channel = self.channels[name] = _Channel(name, notifier)
        channel.task = asyncio.get_running_loop().create_task(channel.run(), name=f"notify:{name}")

    def start(self) -> None:
        """Notifiers are all added: deliver what was sent before."""
        early, self._early = self._early or [], None
        for n in early:
            self._fan_out(n)

    def submit(self, n: Notification) -> str:
        """Never waits. Returns queued | duplicate | rate_limited | dropped (queues full) | no_notifier."""
        verdict = self.gate.admit(n)
        if verdict != ADMITTED:
            _LOGGER.debug("notification %s: %r", verdict, n.message[:80])
            return verdict
        if self._early is not None:
            if len(self._early) < QUEUE_SIZE:
                self._early.append(n)
            return ADMITTED
        return self._fan_out(n)

    def _fan_out(self, n: Notification) -> str:
        names = n.target or tuple(self.channels)
        matched = sent = 0
        for name in names:
            channel = self.channels.get(name)
            if channel is None:
                _LOGGER.warning("notification for unknown notifier '%s' (configured: %s)",
                                name, ", ".join(self.channels) or "none")
                continue
            matched += 1
            try:
                channel.queue.put_nowait(n)
                sent += 1
            except asyncio.QueueFull:
                channel.dropped += 1
        return ADMITTED if sent else DROPPED if matched else NO_NOTIFIER

    async def drain(self) -> None:
        """Wait until every queued notification was delivered or failed (tests, shutdown)."""
        for channel in list(self.channels.values()):
            await channel.queue.join()

    def stats(self) -> dict[str, Any]:
        return {
            **self.gate.counts,
            "notifiers": {c.name: {"delivered": c.delivered, "failed": c.failed, "dropped": c.dropped,
                                   "queued": c.queue.qsize()} for c in self.channels.values()},
        }

    async def close(self) -> None:
        tasks = [c.task for c in self.channels.values() if c.task]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for channel in self.channels.values():
            close = getattr(channel.notifier, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    result = close()
                    if inspect.isawaitable(result):
                        await result
        self.channels.clear()
