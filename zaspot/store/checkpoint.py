"""WAL checkpoints off the write path.

SQLite normally checkpoints inside whichever commit crosses 1000 WAL pages, and
with synchronous=NORMAL that commit also waits for an fsync: every station whose
message is in that batch waits with it. The writer turns automatic checkpoints
off, and this runs a PASSIVE checkpoint (never blocks the writer) on its own
connection and thread once a second.

Under writes that never pause, a PASSIVE checkpoint never catches up with the end
of the WAL, so SQLite never starts it over and the file grows for good (seen: 2.6 GB
beside a 174 MB database after an hour flat out, and every restart replaying it).
Once the WAL passes WAL_LIMIT bytes this runs a RESTART checkpoint instead: it
waits (up to BUSY_MS) for the writer's current transaction, holds writers off while
it copies what is left, and makes the next commit write from the start of the file
again. Writers wait a few milliseconds then (the store's writer thread retries a
locked batch); the WAL stays bounded. The file keeps its size (the writer caps it at
WAL_KEEP): a commit then overwrites pages the system already has, where writing past
the end of a file emptied by a TRUNCATE made the kernel find room for every page
(measured, a commit of 20 WAL pages: 146 us growing the file, 114 us overwriting it).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from concurrent.futures import ThreadPoolExecutor

from ..core.tasks import Every

_LOGGER = logging.getLogger(__name__)
EVERY = 1.0
WAL_LIMIT = 64 * 1024 * 1024
WAL_KEEP = 2 * WAL_LIMIT  # the writer's journal_size_limit: a burst's WAL is cut back to this
BUSY_MS = 2000


class Checkpointer:
    def __init__(self, path: str) -> None:
        self.path, self.every, self.wal_limit = path, EVERY, WAL_LIMIT
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zaspot-store-checkpoint")
        self._db: sqlite3.Connection | None = None
        # A busy or full disk: the WAL just grows until the next try.
        self._every = Every("zaspot-store-checkpoint", lambda: self.every, self._run, _LOGGER,
                            "WAL checkpoint failed")
        self.runs = 0
        self.restarts = 0
        self._page_size = 4096

    def start(self) -> None:
        self._every.start()

    async def stop(self) -> None:
        await self._every.stop()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._checkpoint)  # leave a short WAL behind
        await loop.run_in_executor(self._executor, self._close)
        self._executor.shutdown(wait=True)

    async def _run(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._checkpoint)

    def _checkpoint(self) -> None:
        if self._db is None:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
            self._page_size = self._db.execute("PRAGMA page_size").fetchone()[0]
        _, wal_pages, _ = self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self.runs += 1
        if wal_pages * self._page_size > self.wal_limit:
            self._db.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
            self.restarts += 1

    def _close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
