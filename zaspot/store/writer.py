"""The group-commit writer.

All writes go through one `Writer` and its one SQLite connection. Callers queue an
op and await its future (or pass a `then`). At the end of the event loop's next turn,
everything queued runs as ONE transaction, committed before any caller hears of it.
The next turn, not this one: the frames read meanwhile share the commit (a commit
costs about 11 us of CPU whatever it holds, plus about 2 us a MeterValues row: SQLite
alone, this schema, 1 to 12 rows a commit). On an idle loop
that turn comes at once. Measured on the 50-station bench, when messages were still
handled in the turn after their frame: 3.3 -> 5.1 MeterValues a commit, server CPU
33.1 -> 31.9 us per message, p99 4.7 -> 4.4 ms. Since they are handled in the frame's
own turn (ocpp/session.py), this turn, the next, or the one after measure the same
(4 rounds, within 3%).

Who runs what:

- Writes (`submit`, `call`) run on the event loop itself, all that queued in a turn as
  one transaction. With WAL and synchronous=NORMAL a commit is a write() into the page
  cache, not an fsync (checkpoints run on their own thread: store/checkpoint.py), so
  this costs the loop a fraction of a millisecond and saves the hand-off to a thread
  and back, whose GIL retakes waited behind the busy loop (measured on the
  50-station bench: p99 down by a sixth, throughput up 8%).
- The writer's own thread runs the rest: long ops (`call_long`: filing, retention,
  pruning, the frame log's chunks), reads between batches, and, handed over by the
  loop, a batch of more than MAX_ROWS_ON_LOOP rows or one that found the database
  locked by another process (the thread waits up to busy_timeout; the loop never
  waits). Writes queued after a handed-over batch follow it there, in order. A busy
  thread takes what queued meanwhile itself, batch after batch; an idle one is
  woken by a token.
- A write never rides in a long op's transaction. It did: a long op queued in a
  turn took that turn's writes to the thread, and a station's answer waited behind
  the filing (on the 50-station bench 9% of MeterValues went that way, their p99
  9.4 ms against 6.2 ms for a Heartbeat). While the thread is on the connection,
  writes wait on the loop, and the thread posts a flush when it lets go.

Order: writes commit in queue order, and a thread op runs after the writes queued
before it (it is held until they have committed). A write queued after a long op or
a read may commit before it: those are maintenance and reads over what is committed,
which see a later write as they would had it come a moment sooner.

A lock says who is using the connection.

An op is either a plain statement with rows (`submit`) or a function
`fn(conn, *args)` (`call`, `call_long`) for writes that read first or return a
value. Its outcome goes to a future the caller awaits, or, with `then=`, to a
function called on the loop as soon as the batch is resolved: a station's answer
written from there costs no task wake-up (ocpp/session.py). How a batch runs, and
how one failing op fails alone: store/batch.py.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from . import checkpoint, schema
from .batch import Op, Outcome, Rows, WriterStats, apply_batch, locked
from .outcome import Done, Then
from .outcome import settle as _settle

_LOGGER = logging.getLogger(__name__)

# In place of an op's SQL:
_STOP = object()  # finish what came before, close, end the thread
_READ = object()  # run fn between batches, not inside one
_LONG = object()  # a function op that may take long: never on the loop

MAX_ROWS_ON_LOOP = 256  # a bigger batch goes to the thread: a loop turn stays short

T = TypeVar("T")
StopOp = tuple[object, None, None, tuple[()], None]  # the one op nobody waits on
Queued = Op | StopOp


def _quick(op: Queued) -> bool:
    """A write the loop may commit: a plain statement's rows or a quick function op."""
    return op[0] is None or op[0].__class__ is str


def _fits_the_loop(ops: list[Op]) -> bool:
    rows = 0
    for op in ops:
        rows += 1 if op[1] is None else len(op[1])
        if rows > MAX_ROWS_ON_LOOP:
            return False
    return True


def _all_locked(outcomes: list[tuple[bool, Any]]) -> bool:
    return all(not ok and locked(value) for ok, value in outcomes)


class Writer:
    def __init__(self, path: str, busy_timeout_ms: int = 5000, checkpoints_elsewhere: bool = False) -> None:
        self.path = path
        self.checkpoints_elsewhere = checkpoints_elsewhere
        self.busy_timeout_ms = busy_timeout_ms
        self.stats = WriterStats()
        self.last_batch_ok = True
        self._db: sqlite3.Connection | None = None
        # Ops not yet taken (see "Who runs what"). The loop appends; whoever holds
        # _db_lock swaps a list out whole (each step atomic under the GIL).
        self._pending: list[Op] = []  # quick writes, for the loop
        self._slow: list[Queued] = []  # the thread's: long ops, reads, the stop op, writes handed over
        self._held: list[Queued] = []  # slow ops queued after writes still in _pending
        self._quick_on_thread = 0  # writes handed to the thread, unresolved: later writes follow them
        self._flush_when_free = False  # the loop found the thread on the connection: it posts a flush
        self._db_lock = threading.Lock()  # held while the loop or the thread uses _db
        self._flush_soon = False  # the loop will look at _pending at the end of its turn
        self._signalled = False  # a wake-up token is on its way to the thread
        self._wake: queue.SimpleQueue[None] = queue.SimpleQueue()
        self._closing = False
        self._thread: threading.Thread | None = None
        self._stopped: asyncio.Future[None] | None = None

    _loop: asyncio.AbstractEventLoop  # the loop start() ran on

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
                db.execute(f"PRAGMA journal_size_limit = {checkpoint.WAL_KEEP}")
            schema.migrate(db)
            # A batch on the loop must fail at once on a lock held elsewhere, not
            # sleep in SQLite's busy handler: the thread does the waiting (_apply_waiting).
            db.execute("PRAGMA busy_timeout = 0")
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
            self._queue_slow((_STOP, None, None, (), None))
        await asyncio.shield(self._stopped)

    # --- queueing (event loop side, per write: keep it small) ----------------

    def submit(self, sql: str, rows: Rows) -> asyncio.Future[None]:
        """Queue `executemany(sql, rows)`; the future resolves to None."""
        fut: asyncio.Future[None] = self._future()
        self._queue((sql, rows if type(rows) is list else list(rows), None, (), fut))
        return fut

    def submit_then(self, sql: str, rows: Rows, then: Done) -> None:
        """`submit`, with `then(None, error)` called once it is resolved (see `Then`)."""
        self._open_for_writes()
        self._queue((sql, rows if type(rows) is list else list(rows), None, (), Then(then)))

    def call(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Queue `fn(conn, *args)`, run inside a batch, perhaps on the event loop: for a
        few statements on indexes. Anything that scans or may wait: `call_long`."""
        fut: asyncio.Future[T] = self._future()
        self._queue((None, None, fn, args, fut))
        return fut

    def call_then(self, then: Done, fn: Callable[..., Any], *args: Any) -> None:
        """`call`, with `then(result, error)` called once it is resolved (see `Then`)."""
        self._open_for_writes()
        self._queue((None, None, fn, args, Then(then)))

    def call_long(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Queue `fn(conn, *args)`, run inside a batch on the writer's thread."""
        fut: asyncio.Future[T] = self._future()
        self._queue_slow((_LONG, None, fn, args, fut))
        return fut

    def read(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Run `fn(conn, *args)` on the writer's connection, between batches, after
        the writes queued before it, on the writer's thread: reads on ':memory:' (no
        separate read connection), and one-off reads of many statements (the fleet
        snapshot at start) that would cost a thread hop each on the read connection."""
        fut: asyncio.Future[T] = self._future()
        self._queue_slow((_READ, None, fn, args, fut))
        return fut

    def _future(self) -> asyncio.Future[Any]:
        self._open_for_writes()
        return self._loop.create_future()

    def _open_for_writes(self) -> None:
        if self._closing:
            raise RuntimeError("store is closed")

    def _queue(self, op: Op) -> None:
        self._pending.append(op)
        if not self._flush_soon:
            self._flush_soon = True
            self._loop.call_soon(self._flush_next_turn)

    def _queue_slow(self, op: Queued) -> None:
        """A thread op; it waits for the writes queued before it (they may be on the loop)."""
        if self._pending:
            self._held.append(op)  # _flush lets it go once those are committed or handed over
        else:
            self._slow.append(op)
            self._signal()

    def _flush_next_turn(self) -> None:
        """One turn more for the messages that arrived meanwhile (see the module's docstring)."""
        self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        """End of the loop's turn: commit the writes queued here, or hand them to the thread."""
        self._flush_soon = False
        if self._pending:
            if self._closing or self._quick_on_thread:
                self._hand_over(self._pending)  # writes keep their order
            elif self._db_lock.acquire(blocking=False) or self._wait_for_thread():
                try:
                    self._commit_on_loop()
                finally:
                    self._db_lock.release()
            else:
                return  # the thread is on the connection; it posts a flush when it lets go
        if self._held:
            held, self._held = self._held, []
            self._slow.extend(held)
            self._signal()

    def _wait_for_thread(self) -> bool:
        """The thread holds the connection: ask it for a flush when it lets go. True if it
        let go meanwhile (then nobody would ask: the thread looks at the flag after)."""
        self._flush_when_free = True
        if not self._db_lock.acquire(blocking=False):
            return False
        self._flush_when_free = False
        return True

    def _commit_on_loop(self) -> None:
        ops, self._pending = self._pending, []
        if not _fits_the_loop(ops):
            self._hand_over(ops)
            return
        outcomes = self._apply(ops)
        if not self.last_batch_ok and _all_locked(outcomes):
            self._hand_over(ops)  # locked by another process: the thread waits for it, the loop goes on
            return
        self.stats.on_loop += 1
        self._resolve(ops, outcomes)

    def _hand_over(self, ops: list[Op]) -> None:
        """Writes for the thread, in order; writes queued later follow them there."""
        if ops is self._pending:
            self._pending = []
        self._quick_on_thread += len(ops)
        self._slow.extend(ops)
        self._signal()

    def _signal(self) -> None:
        if not self._signalled:
            self._signalled = True
            self._wake.put(None)

    # --- the writer thread ---------------------------------------------------

    def _serve(self, opened: asyncio.Future[None]) -> None:
        try:
            self._open()
        except BaseException as e:  # noqa: BLE001  (handed to start(), which raises it)
            self._post(_settle, opened, None, e)
            self._post(_settle, self._stopped, None, None)
            return
        self._post(_settle, opened, None, None)
        try:
            while True:
                self._wake.get()
                self._signalled = False  # before draining: an op queued after this signals again
                if not self._drain():
                    break
        finally:
            # Normally nothing is left after the stop op; if the thread died of a
            # bug, nobody may wait forever on it.
            self._closing = True
            with self._db_lock:
                left: list[Queued] = [*self._slow, *self._pending, *self._held]
                self._slow, self._pending, self._held = [], [], []
                if self._db is not None:
                    self._db.close()
                    self._db = None
            gone = RuntimeError("the store's writer has stopped")
            for op in left:
                if op[4] is not None:
                    self._post(_settle, op[4], None, gone)
            self._post(_settle, self._stopped, None, None)

    def _drain(self) -> bool:
        """Run batch after batch until nothing is queued; False once the stop op ran."""
        while True:
            with self._db_lock:
                ops, self._slow = self._slow, []
                if not ops:
                    return True
                if not self._run_on_thread(ops):
                    return False
            if self._flush_when_free:  # after letting go: see _wait_for_thread
                self._flush_when_free = False
                self._post(self._flush)

    def _run_on_thread(self, ops: list[Queued]) -> bool:
        batch: list[Op] = []
        for op in ops:
            if op[4] is None:  # the stop op (_STOP): the one nobody waits on
                self._commit_on_thread(batch)
                return False
            if op[0] is _READ and op[2] is not None:
                self._commit_on_thread(batch)
                batch = []
                self._read(op[2], op[3], op[4])
            else:
                batch.append(op)
        self._commit_on_thread(batch)
        return True

    def _commit_on_thread(self, batch: list[Op]) -> None:
        if batch:
            self._post(self._resolved_on_thread, batch, self._apply_waiting(batch))

    def _resolved_on_thread(self, batch: list[Op], outcomes: list[tuple[bool, Any]]) -> None:
        self._quick_on_thread -= sum(1 for op in batch if _quick(op))
        self._resolve(batch, outcomes)

    def _apply_waiting(self, batch: list[Op]) -> list[tuple[bool, Any]]:
        """The batch, tried again while another connection holds the database, up to
        busy_timeout (SQLite's own busy handler is off: see _open)."""
        deadline = time.monotonic() + self.busy_timeout_ms / 1000
        pause = 0.001
        while True:
            outcomes = self._apply(batch)
            if (self.last_batch_ok or not _all_locked(outcomes)
                    or time.monotonic() + pause > deadline):
                return outcomes
            time.sleep(pause)
            pause = min(2 * pause, 0.05)

    def _apply(self, batch: list[Op]) -> list[tuple[bool, Any]]:
        """One transaction, by whoever holds _db_lock."""
        commits_before = self.stats.commits
        try:
            if self._db is None:
                raise RuntimeError("the store's writer has stopped")
            outcomes = apply_batch(self._db, batch, self.stats)
        except BaseException as e:  # noqa: BLE001  (a bug in apply_batch itself: every caller hears of it)
            outcomes = [(False, e)] * len(batch)
        self.last_batch_ok = self.stats.commits > commits_before  # committed; also for /healthz
        return outcomes

    def _read(self, fn: Callable[..., Any], args: tuple[Any, ...], fut: Outcome) -> None:
        try:
            result, error = fn(self._db, *args), None
        except Exception as e:  # noqa: BLE001  (the caller's future raises it)
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
