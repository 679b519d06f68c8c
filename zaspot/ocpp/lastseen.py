"""When each station was last heard from, written to the database in batches.

A Heartbeat carries no data, only "still here": writing it durably before the
answer (as transaction data is) would make half of a station's messages wait for
a commit for nothing. The session notes the time; this writes every station
heard from since the last flush every FLUSH_EVERY seconds, CHUNK stations per
write: 15,000 in one transaction would hold every MeterValues commit behind it
for tens of milliseconds. What could not be written is kept for the next flush.
Connect, boot and disconnect still write last_seen at once.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zaspot.store import Store

_LOGGER = logging.getLogger(__name__)
FLUSH_EVERY = 10.0
CHUNK = 1000  # about 5 ms of SQLite work


class LastSeen:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._seen: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None

    def heard(self, station_id: str, ts: float) -> None:
        self._seen[station_id] = ts

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="last-seen")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.flush()

    async def flush(self) -> None:
        if not self._seen:
            return
        seen, self._seen = list(self._seen.items()), {}
        for i in range(0, len(seen), CHUNK):
            try:
                await self.store.heartbeats(seen[i:i + CHUNK])
            except BaseException:
                for station_id, ts in seen[i:]:  # unless heard again meanwhile
                    self._seen.setdefault(station_id, ts)
                raise

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_EVERY)
            try:
                await self.flush()
            except Exception:  # a locked or full disk: try again next time
                _LOGGER.exception("could not write last-seen times")
