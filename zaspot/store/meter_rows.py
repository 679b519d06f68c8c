"""Where meter samples are kept, and how to read them in order.

A message's samples are inserted into `meter_recent`, a table with no index, and moved
to `meter_history`, indexed by (station_id, ts), in bulk a few times a second (`merge`,
run by `MeterMerge` on the writer's thread). Why: a commit of MeterValues from k
stations wrote a page of that index per station to the WAL, each a write() of its own
(measured, 10 stations a commit: 19.6 WAL pages and 150 us per commit with the index,
2.4 pages and 53 us without); moved in bulk, one index page takes the rows of many
messages. A sample is in the database, committed, before its station's answer as
before; only its place changes a moment later, in one transaction (a reader sees it in
one table or the other, never both or neither).

`meter_samples` is a view of both tables: a reader of the database sees every sample
there, as it always did. Queries that need an order or a limit read both tables with
`ordered` (the view cannot use the index to stop early); `merge` keeps the recent table
small, so scanning it costs little.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from typing import Any

_LOGGER = logging.getLogger(__name__)

COLUMNS = ("station_id, evse_id, connector_id, tx_key, ts, measurand, phase, location, context, unit, value, "
           "after_tx_end")
_MESSAGE_COLUMNS = "station_id, evse_id, connector_id, tx_key, ts, measurand, phase, location, context, unit, value"
INSERT = f"INSERT INTO meter_recent ({_MESSAGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
# A sample that arrived for a transaction already ended (a late MeterValues): kept, and said so.
INSERT_AFTER_END = f"INSERT INTO meter_recent ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)"

MERGE_EVERY = 0.1  # seconds between merges: the recent table holds about this much
MERGE_ROWS = 1024  # rows moved per transaction at most: the writer is busy with it ~2 ms, stations wait
_MOVE = (f"INSERT INTO meter_history ({COLUMNS}) SELECT {COLUMNS} FROM meter_recent "
         "WHERE rowid <= ? ORDER BY rowid")


def merge(c: sqlite3.Connection, rows: int = MERGE_ROWS) -> int:
    """Move the oldest `rows` recent samples (in arrival order) to the history; how many moved."""
    first = c.execute("SELECT MIN(rowid) FROM meter_recent").fetchone()[0]
    if first is None:
        return 0
    upto = first + rows - 1  # rowids only grow while the table has rows
    c.execute(_MOVE, (upto,))
    moved: int = c.execute("DELETE FROM meter_recent WHERE rowid <= ?", (upto,)).rowcount
    return moved


def merge_all(c: sqlite3.Connection) -> int:
    """Everything recent into the history (for work that reads the history alone)."""
    total = 0
    while moved := merge(c):
        total += moved
    return total


def ordered(columns: str, where: str, order: str = "ts", limit: str | None = None) -> str:
    """SELECT `columns` of both tables WHERE `where` (named parameters: each table reads
    them), ordered by `order` ("ts" or "ts DESC") and arrival, with an optional LIMIT (a
    named parameter or a number). Each table stops at the limit on its own: the history
    through its index, as a query of the one table did."""
    way = " DESC" if order.endswith(" DESC") else ""
    cap = f" LIMIT {limit}" if limit is not None else ""
    part = ("SELECT * FROM (SELECT {columns}, {n} AS part_, rowid AS row_ FROM {table} WHERE {where} "
            "ORDER BY {order}, rowid{way}{cap})")
    history = part.format(columns=columns, n=0, table="meter_history", where=where, order=order, way=way, cap=cap)
    recent = part.format(columns=columns, n=1, table="meter_recent", where=where, order=order, way=way, cap=cap)
    return (f"SELECT {columns} FROM ({history} UNION ALL {recent}) "
            f"ORDER BY {order}, part_{way}, row_{way}{cap}")


class MeterMerge:
    """Moves recent samples to the history every MERGE_EVERY seconds, through the store's
    writer (a long op: always on its thread, never on the event loop)."""

    def __init__(self, writer: Any) -> None:
        self._writer = writer
        self.every = MERGE_EVERY
        self.merged = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="zaspot-store-meter-merge")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def run_once(self) -> int:
        """Merge until the recent table is empty (a chunk at a time); how many rows moved."""
        total = 0
        while (moved := await self._writer.call_long(merge)) > 0:
            total += moved
            self.merged += moved
            if moved < MERGE_ROWS:
                break
        return total

    async def _loop(self) -> None:
        failing = False
        while True:
            await asyncio.sleep(self.every)
            try:
                await self.run_once()
            except Exception:  # a full disk: the samples wait in the recent table, still stored
                if not failing:  # once, not ten times a second
                    _LOGGER.exception("moving meter samples to their history failed; trying again")
                failing = True
            else:
                if failing:
                    _LOGGER.info("meter samples move to their history again")
                failing = False
