"""The group-commit writer.

All writes go through one `Writer`. Callers queue an op and await its future; a
single task takes everything queued, runs it in ONE SQLite transaction on a
dedicated thread (store/worker.py: one cheap hop per batch, not per statement), commits, then
resolves every caller's future with the op's return value or its own exception.

An op is either
  * a plain statement with rows (`submit`): runs of consecutive ops with the same
    SQL are sent to SQLite as one `executemany`; or
  * a function `fn(conn, *args)` (`call`) for writes that read first or return a
    value.
Each op (or run of plain ops) runs under a SAVEPOINT, so a failing op is rolled
back alone and its neighbours in the batch still commit. If SQLite itself aborts
the whole transaction (disk full, I/O error), or the COMMIT fails, every op whose
effect was lost gets the exception; the writer keeps running for later writes.
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass
from itertools import chain
from typing import Any, Callable

from . import schema
from .worker import Worker

# op: (sql, rows, fn, args, future)
_Op = tuple[str | None, list | None, Callable[..., Any] | None, tuple, asyncio.Future]


@dataclass
class WriterStats:
    ops: int = 0  # ops resolved (succeeded or failed)
    failed: int = 0  # ops resolved with an exception
    batches: int = 0  # transactions attempted
    commits: int = 0  # transactions committed


class _TxLost(Exception):
    """SQLite rolled back the whole transaction under us."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


def _savepoint(c: sqlite3.Connection, fn: Callable[..., Any], args: tuple) -> tuple[bool, Any]:
    try:
        c.execute("SAVEPOINT op")
        value = fn(*args)
        c.execute("RELEASE op")
        return True, value
    except Exception as e:
        try:
            c.execute("ROLLBACK TO op")
            c.execute("RELEASE op")
        except Exception:
            raise _TxLost(e) from e
        return False, e


def _run_plain(c: sqlite3.Connection, batch: list[_Op], i: int, j: int,
               out: list[tuple[bool, Any]], in_tx: list[int]) -> None:
    """ops i..j-1 share one SQL: one executemany; if it fails, each alone to find the culprit."""
    sql = batch[i][0]
    params = batch[i][1] if j - i == 1 else chain.from_iterable([op[1] for op in batch[i:j]])
    ok, value = _savepoint(c, c.executemany, (sql, params))
    if ok:
        in_tx.extend(range(i, j))
    elif j - i == 1:
        out[i] = (False, value)
    else:
        for k in range(i, j):
            ok, value = _savepoint(c, c.executemany, (sql, batch[k][1]))
            out[k] = (ok, value)
            if ok:
                in_tx.append(k)


class Writer:
    def __init__(self, path: str, busy_timeout_ms: int = 5000, checkpoints_elsewhere: bool = False) -> None:
        self.path = path
        self.checkpoints_elsewhere = checkpoints_elsewhere
        self.busy_timeout_ms = busy_timeout_ms
        self.stats = WriterStats()
        self.last_batch_ok = True
        self._db: sqlite3.Connection | None = None
        self._worker: Worker | None = None
        self._pending: list[_Op] = []
        self._wakeup: asyncio.Future | None = None
        self._closing = False
        self._task: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # --- lifecycle -----------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._worker = Worker("zaspot-store-writer")
        try:
            await self._worker.run(self._open)
        except BaseException:
            self._worker.stop()
            raise
        self._task = self._loop.create_task(self._run(), name="zaspot-store-writer")

    def _open(self) -> None:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
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
        if self._closing:
            if self._task is not None:
                await asyncio.shield(self._task)
            return
        self._closing = True
        self._wake()
        if self._task is not None:
            await asyncio.shield(self._task)
        if self._db is not None:
            await self._worker.run(self._db.close)
            self._db = None
        self._worker.stop()

    # --- queueing (event loop side, per write: keep it small) ----------------

    def submit(self, sql: str, rows: list) -> asyncio.Future:
        """Queue `executemany(sql, rows)`; the future resolves to None."""
        if self._closing:
            raise RuntimeError("store is closed")
        fut = self._loop.create_future()
        self._pending.append((sql, rows, None, (), fut))
        w = self._wakeup
        if w is not None and not w.done():
            w.set_result(None)
        return fut

    def call(self, fn: Callable[..., Any], *args: Any) -> asyncio.Future:
        """Queue `fn(conn, *args)` (runs on the writer thread, inside the batch)."""
        if self._closing:
            raise RuntimeError("store is closed")
        fut = self._loop.create_future()
        self._pending.append((None, None, fn, args, fut))
        w = self._wakeup
        if w is not None and not w.done():
            w.set_result(None)
        return fut

    async def read(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run `fn(conn, *args)` on the writer's connection, outside any batch
        (used only when there is no separate read connection, e.g. ':memory:')."""
        return await self._worker.run(fn, self._db, *args)

    def _wake(self) -> None:
        w = self._wakeup
        if w is not None and not w.done():
            w.set_result(None)

    # --- the writer task -----------------------------------------------------

    async def _run(self) -> None:
        loop = self._loop
        while True:
            if not self._pending:
                if self._closing:
                    return
                self._wakeup = loop.create_future()
                try:
                    await self._wakeup
                finally:
                    self._wakeup = None
                await asyncio.sleep(0)  # one more loop turn: messages arriving together share the batch
                continue
            batch, self._pending = self._pending, []
            commits_before = self.stats.commits
            try:
                outcomes = await self._worker.run(self._apply, batch)
            except BaseException as e:  # the hop itself failed (or we are cancelled)
                outcomes = [(False, e)] * len(batch)
                if isinstance(e, asyncio.CancelledError):
                    self._resolve(batch, outcomes)
                    raise
            self.last_batch_ok = self.stats.commits > commits_before  # for /healthz
            self._resolve(batch, outcomes)

    def _resolve(self, batch: list[_Op], outcomes: list[tuple[bool, Any]]) -> None:
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

    # --- the writer thread ---------------------------------------------------

    def _apply(self, batch: list[_Op]) -> list[tuple[bool, Any]]:
        """Run a batch in one transaction; returns (ok, value_or_exception) per op.

        Optimistic first: the whole batch with no savepoints (three statements per
        op fewer). Only if something fails is it rolled back and replayed op by op
        under savepoints, so that one bad op fails alone.
        """
        fast = self._apply_fast(batch)
        return fast if fast is not None else self._apply_careful(batch)

    def _apply_fast(self, batch: list[_Op]) -> list[tuple[bool, Any]] | None:
        c = self._db
        if c is None:
            return None
        out: list[tuple[bool, Any]] = [(True, None)] * len(batch)
        try:
            c.execute("BEGIN IMMEDIATE")
        except Exception as e:  # locked past busy_timeout: retrying now would only wait again
            self.stats.batches += 1
            return [(False, e)] * len(batch)
        try:
            i, n = 0, len(batch)
            while i < n:
                sql, rows, fn, args, _ = batch[i]
                if fn is not None:
                    out[i] = (True, fn(c, *args))
                    i += 1
                    continue
                j = i + 1
                while j < n and batch[j][2] is None and batch[j][0] == sql:
                    j += 1
                c.executemany(sql, rows if j - i == 1 else chain.from_iterable([op[1] for op in batch[i:j]]))
                i = j
            c.execute("COMMIT")
        except Exception:
            try:
                if c.in_transaction:
                    c.execute("ROLLBACK")
            except Exception:
                pass
            return None
        self.stats.batches += 1
        self.stats.commits += 1
        return out

    def _apply_careful(self, batch: list[_Op]) -> list[tuple[bool, Any]]:
        c = self._db
        n = len(batch)
        out: list[tuple[bool, Any]] = [(True, None)] * n
        self.stats.batches += 1
        if c is None:
            return [(False, RuntimeError("store is closed"))] * n
        try:
            c.execute("BEGIN IMMEDIATE")
        except Exception as e:
            return [(False, e)] * n
        in_tx: list[int] = []  # ops whose effects live in the open transaction
        i = 0
        while i < n:
            sql, rows, fn, args, _ = batch[i]
            try:
                if fn is not None:
                    j = i + 1
                    ok, value = _savepoint(c, fn, (c, *args))
                    out[i] = (ok, value)
                    if ok:
                        in_tx.append(i)
                else:
                    j = i + 1
                    while j < n and batch[j][2] is None and batch[j][0] == sql:
                        j += 1
                    _run_plain(c, batch, i, j, out, in_tx)
            except _TxLost as lost:
                # Everything done so far in this transaction is gone, and so is
                # the op that hit it. Fail them all, start a fresh transaction.
                err = lost.cause
                for k in in_tx:
                    out[k] = (False, err)
                for k in range(i, j):
                    out[k] = (False, err)
                in_tx = []
                try:
                    if c.in_transaction:
                        c.execute("ROLLBACK")
                    c.execute("BEGIN IMMEDIATE")
                except Exception as e:
                    for k in range(j, n):
                        out[k] = (False, e)
                    return out
            i = j
        self._commit(c, out, in_tx)
        return out

    def _commit(self, c: sqlite3.Connection, out: list[tuple[bool, Any]], in_tx: list[int]) -> None:
        """COMMIT; if it fails, every op whose effect was in the transaction fails with it."""
        try:
            c.execute("COMMIT")
            self.stats.commits += 1
        except Exception as e:
            try:
                if c.in_transaction:
                    c.execute("ROLLBACK")
            except Exception:
                pass
            for k in in_tx:
                out[k] = (False, e)
