"""The raw OCPP frame log: what exactly a station and zaspot said, per station.

Recording packs the frame onto the station's pending chunk (no row per frame);
once a second each station's chunk becomes one database row, and once a minute
the log is trimmed to about `keep` frames per connected station, oldest first.
Debug data, so it is not group-committed before the station's answer like
transaction data is.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from zaspot.core.tasks import Every
from zaspot.store.security import compress_chunks, pack_frame

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
        self._chunks: dict[str, list[Any]] = {}  # station -> [packed frames, count]
        self._frames_written = 0
        self._chunks_written = 0
        self._last_prune = time.monotonic()
        # A full disk must not stop the log for good.
        self._every = Every("frame-log", lambda: FLUSH_EVERY, self._write, _LOGGER, "frame log write failed")

    def record(self, station_id: str, direction: str, frame: str | bytes) -> None:
        chunk = self._chunks.get(station_id)
        if chunk is None:
            chunk = self._chunks[station_id] = [bytearray(), 0]
        pack_frame(chunk[0], time.time(), b"i" if direction == "in" else b"o",
                   frame.encode() if isinstance(frame, str) else frame)
        chunk[1] += 1

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
        # The swapped-out buffers are no longer appended to: compress them as they are
        # (a bytes() copy here was a megabyte or two per second on the event loop).
        rows = [(sid, now, n, data) for sid, (data, n) in chunks.items()]
        self._frames_written += sum(row[2] for row in rows)
        self._chunks_written += len(rows)
        await self.store.add_frame_chunks(await asyncio.to_thread(compress_chunks, rows))

    def chunks_to_keep(self) -> int:
        """About `keep` frames per connected station, in chunks of the size seen so far."""
        frames_per_chunk = self._frames_written / max(1, self._chunks_written)
        return max(1, round(self.keep * max(1, self._stations()) / max(1.0, frames_per_chunk)))

    async def _write(self) -> None:
        await self.flush()
        if time.monotonic() - self._last_prune >= PRUNE_EVERY:
            await self.store.prune_frames(self.chunks_to_keep())
            self._last_prune = time.monotonic()
