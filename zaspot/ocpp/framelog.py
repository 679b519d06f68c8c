"""The raw OCPP frame log: what exactly a station and zaspot said, per station.

Recording appends the frame to the station's pending chunk, a ring of its newest
`keep` frames (no row per frame); once a second each station's chunk is packed,
compressed on a worker thread and becomes one database row, and once a minute the
log is trimmed to about `keep` frames per connected station, oldest first.
Debug data, so it is not group-committed before the station's answer like
transaction data is.

The ring is why a busy station costs what it keeps, not what it says: a station
answering 600 CALLs a second said 1,200 frames a second, and with the default keep of
200 all but 200 of them were packed, compressed, written, checkpointed and deleted a
minute later (the 50-station bench, same run: 45.9 -> 42.4 us of server CPU per
message). The frames it drops are the ones the trim would have dropped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from zaspot.core.tasks import Every
from zaspot.store.security import Frames, pack_chunks

if TYPE_CHECKING:
    from zaspot.store import Store

_LOGGER = logging.getLogger(__name__)
FLUSH_EVERY = 1.0
PRUNE_EVERY = 60.0


class FrameLog:
    def __init__(self, store: Store, keep: int, stations: Callable[[], int]) -> None:
        self.store = store
        self.keep = keep
        self._stations = stations  # how many are connected: the log holds keep x that
        self._chunks: dict[str, deque[tuple[float, bytes, str | bytes]]] = {}  # station -> its newest frames
        self._frames_written = 0
        self._chunks_written = 0
        self._last_prune = time.monotonic()
        # A full disk must not stop the log for good.
        self._every = Every("frame-log", lambda: FLUSH_EVERY, self._write, _LOGGER, "frame log write failed")

    def record(self, station_id: str, direction: str, frame: str | bytes) -> None:
        """Twice per message (in and out): an append, no more."""
        chunk = self._chunks.get(station_id)
        if chunk is None:
            chunk = self._chunks[station_id] = deque(maxlen=self.keep)
        chunk.append((time.time(), b"i" if direction == "in" else b"o", frame))

    def start(self) -> None:
        self._every.start()

    async def stop(self) -> None:
        await self._every.stop()
        await self.flush()

    async def flush(self) -> None:
        if not self._chunks:
            return
        chunks, self._chunks = self._chunks, {}
        now = time.time()
        # The swapped-out rings are no longer appended to: packed and compressed off the loop.
        rows: list[tuple[str, float, Frames]] = [(sid, now, frames) for sid, frames in chunks.items()]
        self._frames_written += sum(len(row[2]) for row in rows)
        self._chunks_written += len(rows)
        await self.store.add_frame_chunks(await asyncio.to_thread(pack_chunks, rows))

    def chunks_to_keep(self) -> int:
        """About `keep` frames per connected station, in chunks of the size seen so far."""
        frames_per_chunk = self._frames_written / max(1, self._chunks_written)
        return max(1, round(self.keep * max(1, self._stations()) / max(1.0, frames_per_chunk)))

    async def _write(self) -> None:
        await self.flush()
        if time.monotonic() - self._last_prune >= PRUNE_EVERY:
            await self.store.prune_frames(self.chunks_to_keep())
            self._last_prune = time.monotonic()
