"""Retention: raw meter samples for `raw_days`, then folded into per-bucket aggregates
(count, min, max, mean per measurand and phase); events, temperatures, commands and
rule traces for `history_days`. Transactions are kept for good (they are billing data).

Runs as small steps on the store's writer (one station, one day at a time), so the
writes stations are waiting for never queue behind a long delete.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import dataclass
from typing import Annotated, Any

from zaspot.core.tasks import Every
from zaspot.ranges import Range

from .filing import delete_meter_values, oldest_meter_value

_LOGGER = logging.getLogger(__name__)
DAY = 86_400.0
DELETE_CHUNK = 10_000


@dataclass
class RetentionConfig:
    # Raw meter samples; older ones become aggregates (0 = keep all).
    raw_days: Annotated[float, Range(0, 3650)] = 30.0
    bucket_minutes: Annotated[int, Range(1, 1440)] = 15  # aggregate resolution
    # Events, temperatures, commands, rule traces (0 = keep all).
    history_days: Annotated[float, Range(0, 3650)] = 180.0
    every_minutes: Annotated[float, Range(1, 1440)] = 60.0  # how often the job runs


_FOLD = """
INSERT INTO meter_aggregates (station_id, evse_id, connector_id, measurand, phase, unit, bucket,
                              n, min, max, mean)
SELECT station_id, COALESCE(evse_id, 0), COALESCE(connector_id, 0), measurand, COALESCE(phase, ''),
       COALESCE(unit, ''), CAST(ts / :size AS INTEGER) * :size, COUNT(*), MIN(value), MAX(value), AVG(value)
FROM meter_samples WHERE station_id = :station AND ts >= :start AND ts < :end
GROUP BY 1, 2, 3, 4, 5, 6, 7
ON CONFLICT DO UPDATE SET
    mean = (mean * n + excluded.mean * excluded.n) / (n + excluded.n),
    n = n + excluded.n, min = MIN(min, excluded.min), max = MAX(max, excluded.max)
"""


def _fold_day(c: sqlite3.Connection, station: str, start: float, end: float, size: float) -> int:
    """Aggregate and delete one station's raw samples in [start, end); how many there were."""
    c.execute(_FOLD, {"station": station, "start": start, "end": end, "size": size})
    return delete_meter_values(c, station, start, end)


def _oldest_samples(c: sqlite3.Connection, cutoff: float) -> list[tuple[str, float]]:
    stations = [r[0] for r in c.execute("SELECT id FROM stations")]
    out = []
    for station in stations:  # the (station_id, ts) index makes each MIN a single seek
        oldest = oldest_meter_value(c, station)
        if oldest is not None and oldest < cutoff:
            out.append((station, oldest))
    return out


def _trim(c: sqlite3.Connection, table: str, ts_column: str, cutoff: float) -> int:
    """Delete up to DELETE_CHUNK of the oldest rows before cutoff (rowid order ~ time order)."""
    row = c.execute(f"SELECT rowid FROM {table} WHERE {ts_column} >= ? ORDER BY rowid LIMIT 1", (cutoff,)).fetchone()
    # The newest row always stays: rowids then never go back (events' ids are the
    # event log's positions, which consumers keep; a reused id would hide new events).
    limit = row[0] if row else c.execute(f"SELECT MAX(rowid) FROM {table}").fetchone()[0]
    if limit is None:
        return 0
    first = c.execute(f"SELECT MIN(rowid) FROM {table}").fetchone()[0]
    if first is None or first >= limit:
        return 0
    return c.execute(f"DELETE FROM {table} WHERE rowid >= ? AND rowid < ?",
                     (first, min(limit, first + DELETE_CHUNK))).rowcount


_HISTORY = (("events", "ts"), ("temperatures", "ts"), ("commands", "sent_at"), ("rule_traces", "started"))


class Retention:
    def __init__(self, store: Any, config: RetentionConfig) -> None:
        self.store = store
        self.config = config
        self.folded = 0
        self.trimmed = 0
        # A run at start (what piled up while the server was down), then every few minutes.
        self._every = Every("retention", lambda: self.config.every_minutes * 60, self.run_once, _LOGGER,
                            "retention run failed", first_at_start=True)

    def start(self) -> None:
        self._every.start()

    async def stop(self) -> None:
        await self._every.stop()

    async def run_once(self, now: float | None = None) -> None:
        now = now or time.time()
        writer = self.store._writer
        if self.config.raw_days > 0:
            cutoff = now - self.config.raw_days * DAY
            size = self.config.bucket_minutes * 60.0
            cutoff -= cutoff % size  # never split a bucket between raw and folded
            for station, oldest in await writer.call_long(_oldest_samples, cutoff):
                start = oldest - oldest % size
                while start < cutoff:
                    end = min(start + DAY, cutoff)
                    self.folded += await writer.call_long(_fold_day, station, start, end, size)
                    start = end
        if self.config.history_days > 0:
            cutoff = now - self.config.history_days * DAY
            for table, column in _HISTORY:
                while (removed := await writer.call_long(_trim, table, column, cutoff)) > 0:
                    self.trimmed += removed
