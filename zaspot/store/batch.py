"""How one batch of writes runs in one SQLite transaction (store/writer.py decides where).

An op is (sql, rows, fn, args, future): a plain statement with rows, or a function
`fn(conn, *args)`. The batch runs optimistically, with no savepoints; only if
something fails is it rolled back and replayed with each op (or run of plain ops)
under a SAVEPOINT, so that a failing op is rolled back alone and its neighbours
still commit. If SQLite itself aborts the whole transaction (disk full, I/O
error), or the COMMIT fails, every op whose effect was lost gets the exception.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from typing import Any, Protocol

Rows = list[Any]  # a statement's parameter rows: one tuple (or list) per execution


class Outcome(Protocol):
    """Where an op's result goes: an asyncio.Future, or the writer's `Then`."""

    def done(self) -> bool: ...
    def set_result(self, result: Any, /) -> None: ...
    def set_exception(self, exception: BaseException, /) -> None: ...


# op: (sql, rows, fn, args, outcome). A plain statement with its rows, or fn(conn, *args);
# a function op's first field is None, or the writer's marker of where it runs.
PlainOp = tuple[str, Rows, None, tuple[()], Outcome]
FunctionOp = tuple[object, None, Callable[..., Any], tuple[Any, ...], Outcome]
Op = PlainOp | FunctionOp
# A run of the batch: consecutive plain ops with one SQL and their rows merged, or one
# function op; with (first op, end op).
Run = tuple[str, Rows, int, int] | tuple[None, None, int, int]


@dataclass
class WriterStats:
    ops: int = 0  # ops resolved (succeeded or failed)
    failed: int = 0  # ops resolved with an exception
    batches: int = 0  # transactions attempted
    commits: int = 0  # transactions committed
    on_loop: int = 0  # batches run on the event loop (the others on the writer's thread)


class _TxLost(Exception):
    """SQLite rolled back the whole transaction under us."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


_PLAIN_INSERT = re.compile(r"(INSERT (?:OR \w+ )?INTO .+ VALUES )(\((?:\?, *)*\?\))", re.S)
MAX_ROWS_PER_STATEMENT = 64
MAX_PARAMETERS = 999  # SQLITE_MAX_VARIABLE_NUMBER before SQLite 3.32


@lru_cache(maxsize=512)
def _multirow(sql: str, rows: int) -> tuple[str, int] | None:
    """`INSERT ... VALUES (?, ?)` as one statement for `rows` rows, and its row width;
    None for any other SQL (upserts, UPDATEs), which keep executemany."""
    m = _PLAIN_INSERT.fullmatch(sql.strip())
    if m is None:
        return None
    head, group = m.groups()
    return head + ", ".join([group] * rows), group.count("?")


def _statement(sql: str, rows: int) -> str:
    """The multi-row INSERT for `rows` rows of a plain INSERT (_multirow said it is one)."""
    shape = _multirow(sql, rows)
    assert shape is not None
    return shape[0]


def _rows_per_statement(width: int) -> int:
    return max(1, min(MAX_ROWS_PER_STATEMENT, MAX_PARAMETERS // width))


def _as_one_statement(sql: str, rows: Rows) -> str | None:
    """The SQL that inserts all these rows in one statement, or None if they need more
    (or are not a plain INSERT, or a row has the wrong number of values)."""
    n = len(rows)
    if n <= 1:
        return sql if n else None
    shape = _multirow(sql, 1)
    if shape is None or n > _rows_per_statement(shape[1]) or any(len(r) != shape[1] for r in rows):
        return None
    return _statement(sql, n)


def insert_rows(c: sqlite3.Connection, sql: str, rows: Rows) -> None:
    """executemany(sql, rows), but a plain INSERT goes in as multi-row statements.

    Every statement SQLite steps releases and retakes the GIL, and while the event
    loop is busy each retake waits (measured: a BEGIN with 0.05 ms of CPU took
    3 ms at p90). Fewer statements per batch, fewer waits.
    """
    n = len(rows)
    shape = _multirow(sql, 1) if n > 1 else None
    if shape is None or any(len(r) != shape[1] for r in rows):  # odd rows: let SQLite judge each
        c.executemany(sql, rows)
        return
    step = _rows_per_statement(shape[1])
    for i in range(0, n, step):
        chunk = rows[i:i + step]
        c.execute(_statement(sql, len(chunk)), list(chain.from_iterable(chunk)))


def _runs(batch: list[Op]) -> list[Run]:
    """The batch as (sql, rows, first op, end op): consecutive plain ops with the same
    SQL merged into one run of rows; a function op is (None, None, i, i + 1)."""
    runs: list[Run] = []
    i, n = 0, len(batch)
    while i < n:
        op = batch[i]
        if op[2] is not None:
            runs.append((None, None, i, i + 1))
            i += 1
            continue
        sql, rows = op[0], op[1]
        j = i + 1
        while j < n and batch[j][2] is None and batch[j][0] == sql:
            j += 1
        if j - i == 1:
            rows = rows if isinstance(rows, list) else list(rows)
        else:
            rows = list(chain.from_iterable([_rows(op) for op in batch[i:j]]))
        runs.append((sql, rows, i, j))
        i = j
    return runs


def _rows(op: Op) -> Rows:
    """A plain op's rows (a function op has none)."""
    return [] if op[1] is None else op[1]


def _savepoint(c: sqlite3.Connection, fn: Callable[..., Any], args: tuple[Any, ...]) -> tuple[bool, Any]:
    try:
        c.execute("SAVEPOINT op")
        value = fn(*args)
        c.execute("RELEASE op")
        return True, value
    except Exception as e:  # noqa: BLE001  (whatever the op raised is its caller's answer)
        try:
            c.execute("ROLLBACK TO op")
            c.execute("RELEASE op")
        except sqlite3.Error:
            raise _TxLost(e) from e
        return False, e


def _run_plain(c: sqlite3.Connection, batch: list[Op], sql: str, rows: Rows, i: int, j: int,
               out: list[tuple[bool, Any]], in_tx: list[int]) -> None:
    """ops i..j-1 share one SQL (their rows merged): one executemany; if it fails, each
    alone to find the culprit."""
    ok, value = _savepoint(c, c.executemany, (sql, rows))
    if ok:
        in_tx.extend(range(i, j))
    elif j - i == 1:
        out[i] = (False, value)
    else:
        for k in range(i, j):
            ok, value = _savepoint(c, c.executemany, (sql, _rows(batch[k])))
            out[k] = (True, None) if ok else (False, value)  # a plain op resolves to None
            if ok:
                in_tx.append(k)


def locked(e: BaseException) -> bool:
    """The database is locked by another connection (the writer decides whether to wait)."""
    return (getattr(e, "sqlite_errorcode", 0) & 0xFF) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def apply_batch(c: sqlite3.Connection, batch: list[Op], stats: WriterStats) -> list[tuple[bool, Any]]:
    """Run a batch in one transaction; returns (ok, value_or_exception) per op.

    Optimistic first: the whole batch with no savepoints (three statements per
    op fewer). Only if something fails is it rolled back and replayed op by op
    under savepoints, so that one bad op fails alone.
    """
    fast = _apply_fast(c, batch, stats)
    return fast if fast is not None else _apply_careful(c, batch, stats)


def _apply_fast(c: sqlite3.Connection, batch: list[Op], stats: WriterStats) -> list[tuple[bool, Any]] | None:
    runs = _runs(batch)
    only = runs[0] if len(runs) == 1 else None
    if only is not None and only[0] is not None:
        single = _as_one_statement(only[0], only[1])
        if single is not None:
            return _apply_one_statement(c, single, only[1], len(batch), stats)
    out: list[tuple[bool, Any]] = [(True, None)] * len(batch)
    try:
        c.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as e:  # locked: the writer decides whether to wait and try again
        stats.batches += 1
        return [(False, e)] * len(batch)
    try:
        for run in runs:
            if run[0] is None:
                _, _, fn, args, _ = batch[run[2]]
                assert fn is not None  # a function op's run
                out[run[2]] = (True, fn(c, *args))
            else:
                insert_rows(c, run[0], run[1])
        c.execute("COMMIT")
    except Exception:  # noqa: BLE001  (any op's failure: the careful path replays them one by one)
        try:
            if c.in_transaction:
                c.execute("ROLLBACK")
        except sqlite3.Error:
            pass
        return None
    stats.batches += 1
    stats.commits += 1
    return out


def _apply_one_statement(c: sqlite3.Connection, sql: str, rows: Rows, n_ops: int,
                         stats: WriterStats) -> list[tuple[bool, Any]] | None:
    """One statement is its own transaction: no BEGIN and COMMIT to step (two GIL
    retakes fewer), same durability, all or nothing."""
    try:
        c.execute(sql, rows[0] if len(rows) == 1 else list(chain.from_iterable(rows)))
    except Exception as e:  # noqa: BLE001  (OverflowError too: the careful path finds the culprit)
        if locked(e):  # as BEGIN IMMEDIATE in _apply_fast: the writer decides whether to wait
            stats.batches += 1
            return [(False, e)] * n_ops
        return None  # the careful path finds the culprit
    stats.batches += 1
    stats.commits += 1
    return [(True, None)] * n_ops


def _apply_careful(c: sqlite3.Connection, batch: list[Op], stats: WriterStats) -> list[tuple[bool, Any]]:
    n = len(batch)
    out: list[tuple[bool, Any]] = [(True, None)] * n
    stats.batches += 1
    try:
        c.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as e:
        return [(False, e)] * n
    in_tx: list[int] = []  # ops whose effects live in the open transaction
    for run in _runs(batch):
        i, j = run[2], run[3]
        try:
            if run[0] is None:
                _, _, fn, args, _ = batch[i]
                assert fn is not None  # a function op's run
                ok, value = _savepoint(c, fn, (c, *args))
                out[i] = (ok, value)
                if ok:
                    in_tx.append(i)
            else:
                _run_plain(c, batch, run[0], run[1], i, j, out, in_tx)
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
            except sqlite3.Error as e:
                for k in range(j, n):
                    out[k] = (False, e)
                return out
    _commit(c, out, in_tx, stats)
    return out


def _commit(c: sqlite3.Connection, out: list[tuple[bool, Any]], in_tx: list[int], stats: WriterStats) -> None:
    """COMMIT; if it fails, every op whose effect was in the transaction fails with it."""
    try:
        c.execute("COMMIT")
        stats.commits += 1
    except sqlite3.Error as e:
        try:
            if c.in_transaction:
                c.execute("ROLLBACK")
        except sqlite3.Error:
            pass
        for k in in_tx:
            out[k] = (False, e)
