"""Stale transactions: closed with their last meter reading (#17).

Two ways a transaction goes stale. Its station boots again without having stopped it:
closed in the boot's own unit of work (zaspot.store.messages.booted). Or nothing is
heard of it for `transactions.stale_after` seconds (0: never): the sweeper here closes
it, at start and then every few minutes at most. Either way the row says `stale`,
its stop is its last energy register reading, and a real stop that arrives later
still wins (zaspot.store.stale).

Silence is counted on the server's clock, from the last message of the transaction
this process heard (its start, an update, a meter value); stations' clocks may be
wrong, and a backlog replayed after hours offline is no silence. At start it counts
from the last time the store has (the station's own).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from zaspot.core import events as ev
from zaspot.store import stale as steps
from zaspot.store.publish import publish
from zaspot.store.unit import Unit

_LOGGER = logging.getLogger(__name__)

_MAX_EVERY = 300.0  # s: the sweeper looks at least this often
_MIN_EVERY = 0.25


def sweep_every(stale_after: float) -> float:
    """How often the sweeper looks: a quarter of the allowed silence, within bounds."""
    return min(_MAX_EVERY, max(_MIN_EVERY, stale_after / 4))


class StaleSweeper:
    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self.stale_after = float(ctx.config.transactions.stale_after)
        self._heard: dict[tuple[str, str], float] = {}  # (station, tx_key) -> server time last heard of
        self._unlisten: Any = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if not self.stale_after:
            return
        self._unlisten = self.ctx.bus.listen(
            (ev.TransactionStarted.type, ev.TransactionUpdated.type, ev.MeterSample.type, ev.TransactionEnded.type),
            self._follow, name="stale_transactions", inline=True,
        )
        await self.sweep(at_start=True)
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="stale-transactions")

    async def stop(self) -> None:
        if self._unlisten is not None:
            self._unlisten()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def _follow(self, event: Any) -> None:
        """Inline, on every meter sample too: one dict write."""
        key = getattr(event, "transaction_id", None) or getattr(event, "tx_key", None)
        if key is None:
            return
        if event.type == ev.TransactionEnded.type:
            self._heard.pop((event.station_id, key), None)
        else:
            self._heard[(event.station_id, key)] = time.time()

    async def _loop(self) -> None:
        every = sweep_every(self.stale_after)
        while True:
            await asyncio.sleep(every)
            try:
                await self.sweep()
            except Exception:  # the store failed: the next sweep tries again
                _LOGGER.exception("stale transactions: sweep failed")

    async def _stored_activity(self, row: dict[str, Any]) -> float:
        sample = await self.ctx.store.last_sample_at(row["station_id"], row["tx_key"], row["started_at"])
        return max(row["started_at"] or 0.0, row["updated_at"] or 0.0, sample or 0.0)

    async def sweep(self, at_start: bool = False) -> int:
        """Close every active transaction silent longer than stale_after; how many."""
        now = time.time()
        store = self.ctx.store
        silent = []
        for row in await store.active_transactions():
            key = (row["station_id"], row["tx_key"])
            if key not in self._heard:
                # Unheard in this run. At start: as the store last knew it (the station's
                # clock, never ahead of ours); later, a transaction whose news is still on
                # its way (committed, not yet fired) counts from now.
                self._heard[key] = min(await self._stored_activity(row), now) if at_start else now
            if now - self._heard[key] > self.stale_after:
                silent.append(row)
        if not silent:
            return 0
        unit = Unit()
        unit.do(steps.close_silent, silent, steps.silent_reason(self.stale_after))
        [closed] = await publish(self.ctx.store, self.ctx.bus, unit)
        for row in silent:
            self._heard.pop((row["station_id"], row["tx_key"]), None)
        if closed:
            _LOGGER.info("closed %d silent transaction(s) as stale", closed)
        return closed


async def setup(ctx: Any, commands: Any) -> Any:
    """Start the silence sweeper (closing at boot needs none); returns its teardown."""
    sweeper = StaleSweeper(ctx)
    await sweeper.start()
    return sweeper.stop
