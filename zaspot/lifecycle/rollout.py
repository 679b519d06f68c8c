"""A firmware rollout over many stations: a few at a time, stopped on its first failures.

Each running rollout has one task that reads the rollout's rows, sends UpdateFirmware to
the next pending stations while fewer than `concurrency` are in flight, and waits until an
update of it changes (a `firmware_status` event). A station that is not connected (or not
accepted yet) when its turn comes is passed over for the next one and waits for it, up to
`files.status_timeout`; then its update is rejected. When `max_failures` updates have
failed, the updates not sent yet are skipped and the rollout is `stopped` (those in flight
are still followed to their end); when every update is finished, it is `done`. All of it
is in the database, so a restart resumes each running rollout where it was.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from zaspot.core.events import Event
from zaspot.store import lifecycle as rows
from zaspot.store.publish import publish
from zaspot.store.unit import Unit

_LOGGER = logging.getLogger(__name__)

Send = Callable[[dict[str, Any], dict[str, Any]], Awaitable[None]]  # (update, rollout): marks it sent or failed
Fail = Callable[[dict[str, Any], str], Awaitable[None]]  # (update, why): rejects it
RECHECK = 1.0  # s between looks at stations that are away, while one's turn has come


class Rollouts:
    def __init__(self, ctx: Any, send: Send, fail: Fail) -> None:
        self.ctx = ctx
        self._send, self._fail = send, fail
        self._away_since: dict[int, float] = {}  # update id -> when its turn found its station away
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._wakes: dict[int, asyncio.Event] = {}
        self._unlisten: Any = None

    async def start(self) -> None:
        """Listen for update changes and resume every rollout still running."""
        self._unlisten = self.ctx.bus.listen(["firmware_status", "station_booted"], self._heard,
                                             name="firmware-rollouts")
        for rollout in await self.ctx.store.firmware_rollouts(state="running", limit=10_000):
            _LOGGER.info("firmware rollout %d (%s) resumes", rollout["id"], rollout["firmware"])
            self.run(rollout["id"])

    async def stop(self) -> None:
        if self._unlisten is not None:
            self._unlisten()
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def run(self, rollout_id: int) -> None:
        if rollout_id in self._tasks:
            return
        self._wakes[rollout_id] = asyncio.Event()
        task = asyncio.get_running_loop().create_task(self._run(rollout_id), name=f"firmware-rollout-{rollout_id}")
        self._tasks[rollout_id] = task
        task.add_done_callback(lambda t: self._done(rollout_id, t))

    def wake(self, rollout_id: int | None) -> None:
        wake = self._wakes.get(rollout_id) if rollout_id is not None else None
        if wake is not None:
            wake.set()

    async def _heard(self, event: Event) -> None:
        if event.type == "station_booted":  # a station that was away may have its turn now
            for wake in self._wakes.values():
                wake.set()
        else:
            self.wake(getattr(event, "rollout_id", None))

    def _done(self, rollout_id: int, task: asyncio.Task[None]) -> None:
        self._tasks.pop(rollout_id, None)
        self._wakes.pop(rollout_id, None)
        if not task.cancelled() and task.exception() is not None:
            _LOGGER.error("firmware rollout %d failed", rollout_id, exc_info=task.exception())

    async def _run(self, rollout_id: int) -> None:
        wake = self._wakes[rollout_id]
        while True:
            wake.clear()
            step = await self._step(rollout_id)
            if step is False:
                return
            try:
                await asyncio.wait_for(wake.wait(), step)
            except TimeoutError:
                pass

    async def _step(self, rollout_id: int) -> bool | float | None:
        """Send what may be sent now. False once the rollout has nothing more to send; else
        how long to wait at most for news (None: until an update changes)."""
        store = self.ctx.store
        rollout = await store.firmware_rollout(rollout_id)
        if rollout is None or rollout["state"] != "running":
            return False
        updates = await store.firmware_updates(rollout_id=rollout_id, limit=100_000)
        failed = [u for u in updates if u["status"] in rows.FIRMWARE_FAILED]
        if len(failed) >= rollout["max_failures"]:
            names = ", ".join(u["station_id"] for u in failed)
            await self._commit(rows.stop_rollout, rollout_id, f"rollout stopped: {names} failed")
            _LOGGER.warning("firmware rollout %d stopped: %s failed", rollout_id, names)
            return False
        unfinished = [u for u in updates if u["status"] not in rows.FIRMWARE_DONE]
        if not unfinished:
            await self._commit(rows.set_rollout_state, rollout_id, "done")
            _LOGGER.info("firmware rollout %d done", rollout_id)
            return False
        in_flight = sum(u["status"] != "pending" for u in unfinished)
        pending = [u for u in unfinished if u["status"] == "pending"]
        if not pending or in_flight >= rollout["concurrency"]:
            return None
        now, timeout = time.monotonic(), self.ctx.config.files.status_timeout
        for update in pending:
            session = self.ctx.sessions.get(update["station_id"])
            since = self._away_since.setdefault(update["id"], now)
            if session is not None and session.accepted:
                await self._send(update, rollout)  # committed (sent, or failed) before the next read
            elif now - since >= timeout:
                await self._fail(update, f"{update['station_id']} was not connected for {timeout:.0f} s")
            else:
                continue
            self._away_since.pop(update["id"], None)
            self.wake(rollout_id)  # and look again at once: room for one more, or a failure to stop on
            return None
        return RECHECK  # every station whose turn it is is away

    async def _commit(self, step: Any, *args: Any) -> None:
        unit = Unit()
        unit.do(step, *args, time.time())
        await publish(self.ctx.store, self.ctx.bus, unit)
