"""The station index of meter values, filled in bulk, off the stations' commits.

A MeterValues is one row of meter_values, committed before its answer. The index
that finds a station's meter values by time is a table of its own, meter_index
(station_id, ts, value_id), filled from here: with an index SQLite keeps up itself,
each commit wrote a page of the index per station in it, and in a busy fleet no two
of a commit's meter values share a station (each station waits for its answer).
Measured on the 50-station bench, that index took the server from 24 to 27 us of CPU
per message, 42,000 to 37,000 msgs/s.

Every FILE_EVERY seconds this files the meter values written since (ids above
meter_filed.upto, at most CHUNK a round), sorted by station and time: a page per
station per round instead of per commit, and no row is copied. A round reads its
rows into a temporary table, sorted, READ_STEP ids a transaction, then files them in
up to GROUPS transactions, each a range of station ids; all on the writer's thread. A
station's commit that comes meanwhile waits for one of those (under a millisecond at
the bench's load), not for the round. meter_filed.upto moves once the round is done; until then the rows of
the ranges done are in the index and above upto both, and the views count them once.
Readers see filed and unfiled meter values alike through the meter_rows and
meter_samples views (store/migrations.py): the unfiled ones are a short range of ids.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import TYPE_CHECKING

from ..core.tasks import Every

if TYPE_CHECKING:
    from .writer import Writer

_LOGGER = logging.getLogger(__name__)
FILE_EVERY = 0.2
CHUNK = 5000  # meter values in a round at most
GROUPS = 5  # transactions a round is cut into, each a range of stations
_UPTO = "(SELECT upto FROM meter_filed)"


# The round being filed, sorted as the index is: read from meter_values once, so that each
# range's transaction only inserts (a scan per range cost more than the inserts). On the
# writer's connection, in memory; a crash loses it, and the next round starts again at upto.
_ROUND = """CREATE TEMP TABLE IF NOT EXISTS meter_filing (
    station_id TEXT NOT NULL, ts REAL NOT NULL, value_id INTEGER NOT NULL,
    PRIMARY KEY (station_id, ts, value_id)) WITHOUT ROWID"""
ROWS_PER_RANGE = 800


READ_STEP = 1000  # ids read into a round per transaction


def start_round(c: sqlite3.Connection, limit: int = CHUNK) -> tuple[int, int, int] | None:
    """The next filing round, None if nothing is unfiled: (upto, top, n), the oldest
    `limit` unfiled ids (upto, top], n of them; temp.meter_filing made empty for it."""
    upto = c.execute("SELECT upto FROM meter_filed").fetchone()[0]
    top, n = c.execute("SELECT MAX(id), COUNT(*) FROM (SELECT id FROM meter_values WHERE id > ? ORDER BY id LIMIT ?)",
                       (upto, limit)).fetchone()
    if top is None:
        return None
    c.execute(_ROUND)
    c.execute("DELETE FROM temp.meter_filing")
    return upto, top, n


def read_round(c: sqlite3.Connection, after: int, upto: int) -> None:
    """The round's meter values with ids in (after, upto] into temp.meter_filing (in the
    index's order on the way in: faster than unsorted)."""
    c.execute("INSERT INTO temp.meter_filing SELECT station_id, ts, id FROM meter_values WHERE id > ? AND id <= ? "
              "ORDER BY 1, 2, 3", (after, upto))


def round_bounds(c: sqlite3.Connection, n: int, groups: int = GROUPS) -> list[str]:
    """Station ids that cut the round into ranges of about ROWS_PER_RANGE meter values,
    at most `groups` of them."""
    ranges = max(1, min(groups, n // ROWS_PER_RANGE))
    return sorted({c.execute("SELECT station_id FROM temp.meter_filing LIMIT 1 OFFSET ?",
                             (n * k // ranges,)).fetchone()[0] for k in range(1, ranges)})


def file_range(c: sqlite3.Connection, low: str | None, high: str | None) -> int:
    """One transaction of a round: the round's meter values of the stations in [low,
    high) into meter_index (None: no bound); how many. OR IGNORE: after a crash in the
    middle of a round, the next one files the same ids again."""
    where = " AND ".join(w for w, b in (("station_id >= ?", low), ("station_id < ?", high)) if b is not None)
    return int(c.execute("INSERT OR IGNORE INTO meter_index (station_id, ts, value_id) "
                         f"SELECT * FROM temp.meter_filing {'WHERE ' + where if where else ''}",
                         [b for b in (low, high) if b is not None]).rowcount)


def end_round(c: sqlite3.Connection, upto: int, top: int) -> None:
    c.execute("UPDATE meter_filed SET upto = ? WHERE upto = ?", (top, upto))
    c.execute("DELETE FROM temp.meter_filing")


def file_meter_values(c: sqlite3.Connection, limit: int = CHUNK) -> int:
    """A whole round in the caller's transaction (tools and tests; the store's task cuts it)."""
    job = start_round(c, limit)
    if job is None:
        return 0
    upto, top, _ = job
    read_round(c, upto, top)
    filed = file_range(c, None, None)
    end_round(c, upto, top)
    return filed


def oldest_meter_value(c: sqlite3.Connection, station_id: str) -> float | None:
    """When the station's oldest stored meter value was taken: a seek in the index and a
    look at the unfiled few (a MIN through meter_rows would read all the station's rows)."""
    filed = c.execute("SELECT MIN(ts) FROM meter_index WHERE station_id = ?", (station_id,)).fetchone()[0]
    new = c.execute(f"SELECT MIN(ts) FROM meter_values WHERE id > {_UPTO} AND station_id = ?",
                    (station_id,)).fetchone()[0]
    times = [t for t in (filed, new) if t is not None]
    return min(times) if times else None


def delete_meter_values(c: sqlite3.Connection, station_id: str, start: float, end: float) -> int:
    """Delete the station's meter values taken in [start, end), filed or not; how many
    sampled values they held. The one way meter values are deleted (see the last step)."""
    args = (station_id, start, end)
    filed = "SELECT value_id FROM meter_index WHERE station_id = ? AND ts >= ? AND ts < ?"
    new = f"SELECT id FROM meter_values WHERE id > {_UPTO} AND station_id = ? AND ts >= ? AND ts < ?"
    ids = f"id IN ({filed} UNION ALL {new})"
    samples: int = c.execute(f"SELECT COALESCE(SUM(json_array_length(samples)), 0) FROM meter_values WHERE {ids}",
                             args + args).fetchone()[0]
    c.execute(f"DELETE FROM meter_values WHERE {ids}", args + args)
    c.execute("DELETE FROM meter_index WHERE station_id = ? AND ts >= ? AND ts < ?", args)
    c.execute(_ROUND)  # nor may a round being filed put them back into the index
    c.execute("DELETE FROM temp.meter_filing WHERE station_id = ? AND ts >= ? AND ts < ?", args)
    # If the newest went (a backlog of old readings replayed last), SQLite gives their ids
    # again: they must not count as filed. Every id up to the new upto is still filed.
    c.execute("UPDATE meter_filed SET upto = MIN(upto, (SELECT COALESCE(MAX(id), 0) FROM meter_values))")
    return samples


class MeterFiling:
    """The task that files new meter values while the store is open."""

    def __init__(self, writer: Writer, every: float = FILE_EVERY, chunk: int = CHUNK) -> None:
        self.writer, self.every, self.chunk = writer, every, chunk
        self.filed = 0  # meter values filed so far
        # A full disk must not stop filing for good; readers see unfiled rows meanwhile.
        self._every = Every("zaspot-store-filing", lambda: self.every, self.file_all, _LOGGER,
                            "filing meter values failed")

    def start(self) -> None:
        self._every.start()

    async def stop(self) -> None:
        await self._every.stop()

    async def file_all(self) -> None:
        """File whatever is unfiled now, a round at a time, each round a few short
        transactions: a station's commit waits for one of them at most."""
        call = self.writer.call_long
        while (job := await call(start_round, self.chunk)) is not None:
            upto, top, n = job
            for after in range(upto, top, READ_STEP):
                await call(read_round, after, min(after + READ_STEP, top))
            bounds = await call(round_bounds, n)
            for low, high in zip([None, *bounds], [*bounds, None]):
                self.filed += await call(file_range, low, high)
            await call(end_round, upto, top)
            if n < self.chunk:
                return
