"""The WAL stays bounded under writes that never pause, with reads going on (a real
SQLite file; sizes made small so the test is quick)."""

from __future__ import annotations

import asyncio
import os

from zaspot.core.events import Sample
from zaspot.store import Store, checkpoint


async def test_the_wal_starts_over_once_it_passes_its_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoint, "EVERY", 0.02)
    monkeypatch.setattr(checkpoint, "WAL_LIMIT", 256 * 1024)
    path = tmp_path / "z.db"
    store = await Store.open(path)
    wal = f"{path}-wal"
    biggest = 0
    stop = asyncio.Event()

    async def write(station: int) -> None:
        i = 0
        while not stop.is_set():
            samples = [Sample("Power.Active.Import", float(i * 10 + k), "W", timestamp=float(i)) for k in range(10)]
            await store.meter_samples(f"CP{station}", 1, 1, None, samples)
            i += 1

    async def read() -> None:  # stations' reads (authorize, lookups) keep a reader on the WAL
        while not stop.is_set():
            await store.meter_samples_of("CP0", limit=50)

    tasks = [asyncio.create_task(write(n)) for n in range(10)] + [asyncio.create_task(read()) for _ in range(2)]
    loop = asyncio.get_running_loop()
    end = loop.time() + 2.0
    while loop.time() < end:
        await asyncio.sleep(0.05)
        if os.path.exists(wal):
            biggest = max(biggest, os.path.getsize(wal))
    stop.set()
    await asyncio.gather(*tasks)
    restarts = store._checkpointer.restarts
    rows = len(await store.meter_samples_of("CP0", limit=100_000))
    await store.close()
    assert rows > 100  # it did write, flat out
    assert restarts > 0
    # Flat out like this, a WAL that is never emptied passes 300 MB in 2 s (checked).
    assert biggest < 48 * 1024 * 1024, f"the WAL grew to {biggest} bytes"
