"""The group-commit writer.

All writes go through one `Writer`. Callers queue an op and await its future. A
dedicated thread takes everything queued, runs it in ONE SQLite transaction,
commits, posts the outcomes back to the event loop (which resolves every caller's
future with the op's return value or its own exception) and at once takes what
queued meanwhile: under load, batches follow each other without waiting for the
event loop; an idle thread is woken by the first op.

An op is either a plain statement with rows (`submit`) or a function
`fn(conn, *args)` (`call`) for writes that read first or return a value. How a
batch runs, and how one failing op fails alone: store/batch.py. The writer keeps
running after a failed batch.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from typing import Any, Callable

from . import schema
from .batch import Op, WriterStats, apply_batch

_STOP = object()  # in place of the SQL: finish what came before, close, end the thread
_READ = object()  # in place of the SQL: run fn between batches, not inside one


def _settle(future: asyncio.Future, result: Any, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class Writer:
    def __init__(self, path: str, busy_timeout_ms: int = 5000, checkpoints_elsewhere: bool = False) -> None:
        self.path = path
        self.checkpoints_elsewhere = checkpoints_elsewhere
        self.busy_timeout_ms = busy_timeout_ms
        self.stats = WriterStats()
        self.last_batch_ok = True
        self._db: sqlite3.Connection | None = None
        # Ops not yet taken by the thread. The loop appends; the thread swaps the
        # list out whole (each step atomic under the GIL).
        self._pending: list[Op] = []
        self._thread_idle = False  # the thread is waiting for a wake-up token
        self._wake: queue.SimpleQueue[None] = queue.SimpleQueue()
        self._closing = False
        self._thread: threading.Thread | None = None
        self._stopped: asyncio.Future | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # --- lifecycle -----------------------------------------------------------

    async def start(self) -> None:
        self._loop = loop = asyncio.get_running_loop()
        opened, self._stopped = loop.create_future(), loop.create_future()
        self._thread = threading.Thread(target=self._serve, args=(opened,), name="zaspot-store-writer",
                                        daemon=True)
        self._thread.start()
        await opened

    def _open(self) -> None:
        # Room for the multi-row INSERTs: one prepared statement per row count.
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, cached_statements=512)
        try:
            for p in schema.pragmas(self.busy_timeout_ms):
                db.execute(p)
            if self.checkpoints_elsewhere:
                db.execute("PRAGMA wal_autocheckpoint = 0")  # see store/checkpoint.py
            schema.migrate(db)
        except BaseException:
            db.close()
            raise
        self._db = db

    async def close(self) -> None:
        """Flush everything queued, then close the connection."""
        if self._stopped is None:
            return
        if not self._closing:
            self._closing = True
            self._pending.append((_STOP, None, None, (), None))
            self._hand_over()
        await asyncio.shield(self._stopped)

    # --- queueing (event loop side, per write: keep it small) ----------------

    def submit(self, sql: str, rows: list) -> asyncio.Future:
        """Queue `executemany(sql, rows)`; the future resolves to None."""
        return self._queue(sql, rows, None, ())

    def call(self, fn: Callable[..., Any], *args: Any) -> asyncio.Future:
        """Queue `fn(conn, *args)` (runs on the writer thread, inside the batch)."""
        return self._queue(None, None, fn, args)

    def read(self, fn: Callable[..., Any], *args: Any) -> asyncio.Future:
        """Run `fn(conn, *args)` on the writer's connection, between batches, after
        the writes queued before it (used only when there is no separate read
        connection, e.g. ':memory:')."""
        return self._queue(_READ, None, fn, args)

    def _queue(self, sql: Any, rows: list | None, fn: Callable[..., Any] | None, args: tuple) -> asyncio.Future:
        if self._closing:
            raise RuntimeError("store is closed")
        fut = self._loop.create_future()
        self._pending.append((sql, rows, fn, args, fut))
        self._hand_over()
        return fut

    def _hand_over(self) -> None:
        # A busy thread takes what is pending itself when its batch is done, with
        # no loop turn in between (measured: waiting for the end of the loop turn
        # instead cost MeterValues about 1 ms of their 7 in the server). An idle
        # thread is woken now.
        if self._thread_idle:
            self._thread_idle = False
            self._wake.put(None)

    # --- the writer thread ---------------------------------------------------

    def _serve(self, opened: asyncio.Future) -> None:
        """The thread's loop: take everything queued, commit it as one batch, post
        the outcomes back, and go straight on to what queued meanwhile."""
        try:
            self._open()
        except BaseException as e:
            self._post(_settle, opened, None, e)
            self._post(_settle, self._stopped, None, None)
            return
        self._post(_settle, opened, None, None)
        try:
            while self._take_and_commit():
                pass
        finally:
            # Normally nothing is left after the stop op; if the thread died of a
            # bug, nobody may wait forever on it.
            self._closing = True
            left, self._pending = self._pending, []
            gone = RuntimeError("the store's writer has stopped")
            for op in left:
                if op[4] is not None:
                    self._post(_settle, op[4], None, gone)
            if self._db is not None:
                self._db.close()
                self._db = None
            self._post(_settle, self._stopped, None, None)

    def _take_and_commit(self) -> bool:
        """One round; False once the stop op has been reached."""
        ops, self._pending = self._pending, []
        if not ops:
            self._thread_idle = True
            if not self._pending:  # re-check: an op queued just now saw us busy
                self._wake.get()
            self._thread_idle = False
            return True
        batch: list[Op] = []
        for op in ops:
            if op[0] is _STOP:
                self._commit_batch(batch)
                return False
            if op[0] is _READ:
                self._commit_batch(batch)
                batch = []
                self._read(op[2], op[3], op[4])
            else:
                batch.append(op)
        self._commit_batch(batch)
        return True

    def _commit_batch(self, batch: list[Op]) -> None:
        if not batch:
            return
        commits_before = self.stats.commits
        try:
            outcomes = apply_batch(self._db, batch, self.stats)
        except BaseException as e:  # a bug in apply_batch itself: every caller hears of it
            outcomes = [(False, e)] * len(batch)
        self.last_batch_ok = self.stats.commits > commits_before  # for /healthz
        self._post(self._resolve, batch, outcomes)

    def _read(self, fn: Callable[..., Any], args: tuple, fut: asyncio.Future) -> None:
        try:
            result, error = fn(self._db, *args), None
        except Exception as e:
            result, error = None, e
        self._post(_settle, fut, result, error)

    def _post(self, fn: Callable[..., Any], *args: Any) -> None:
        try:
            self._loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # the loop is gone (shutdown): nobody waits any more
            pass

    def _resolve(self, batch: list[Op], outcomes: list[tuple[bool, Any]]) -> None:
        stats = self.stats
        failed = 0
        for op, (ok, value) in zip(batch, outcomes):
            fut = op[4]
            if ok:
                if not fut.done():
                    fut.set_result(value)
            else:
                failed += 1
                if not fut.done():
                    fut.set_exception(value)
        stats.ops += len(batch)
        stats.failed += failed
