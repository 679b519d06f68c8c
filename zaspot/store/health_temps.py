"""Store: temperature against current per day and the fold marks (zaspot.health.loadtemp; #19 part 4).

`temperature_load_daily` holds, per series (station, EVSE, connector, location, module
instance) and day in the health timezone, the sums a regression of temperature on current
needs: n, Σi, Σt, Σi², Σit, Σt². `health_marks` says up to when each fold has got. The
fold's writer step (zaspot.health.loadtemp) reads the raw rows with the functions here and
adds an hour's sums together with its mark, in one transaction: a crash loses the hour or
keeps it whole, never half of it, and a fold run again starts where the mark says.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .filing import oldest_meter_value

if TYPE_CHECKING:
    from .writer import Writer

_ADD_SUMS = """
INSERT INTO temperature_load_daily (station_id, evse_id, connector_id, location, instance, day,
                                    n, sum_i, sum_t, sum_ii, sum_it, sum_tt)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (station_id, evse_id, connector_id, location, instance, day) DO UPDATE SET
    n = n + excluded.n, sum_i = sum_i + excluded.sum_i, sum_t = sum_t + excluded.sum_t,
    sum_ii = sum_ii + excluded.sum_ii, sum_it = sum_it + excluded.sum_it, sum_tt = sum_tt + excluded.sum_tt
"""
FOLD_MARK = "temperature_load"  # how far the temperature fold (zaspot.health.loadtemp) has got
_SET_MARK = ("INSERT INTO health_marks (name, upto, updated_at) VALUES (?, ?, ?) "
             "ON CONFLICT (name) DO UPDATE SET upto = excluded.upto, updated_at = excluded.updated_at")
# The highest phase per reading: a three-phase connector's load is its most loaded phase.
_CURRENTS = """
SELECT COALESCE(evse_id, 0), ts, MAX(value) FROM meter_samples
WHERE station_id = ? AND ts >= ? AND ts <= ? AND measurand = 'Current.Import' AND unit = 'A'
      AND value IS NOT NULL AND COALESCE(phase, '') != 'N'
GROUP BY 1, 2 ORDER BY 2
"""


# --- writer steps (run inside the fold's transaction) -------------------------------------


def mark(c: sqlite3.Connection, name: str) -> float | None:
    row = c.execute("SELECT upto FROM health_marks WHERE name = ?", (name,)).fetchone()
    return None if row is None else row[0]


def set_mark(c: sqlite3.Connection, name: str, upto: float) -> None:
    c.execute(_SET_MARK, (name, upto, time.time()))


def add_sums(c: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    """(station_id, evse_id, connector_id, location, instance, day, n, Σi, Σt, Σii, Σit, Σtt) added."""
    if rows:
        c.executemany(_ADD_SUMS, rows)


def oldest_temperature(c: sqlite3.Connection, since: float = 0.0) -> float | None:
    oldest: float | None = c.execute("SELECT MIN(ts) FROM temperatures WHERE ts >= ?", (since,)).fetchone()[0]
    return oldest


def oldest_raw_sample(c: sqlite3.Connection) -> float | None:
    """The oldest meter sample retention has not folded away yet (store/retention.py)."""
    oldest = None
    for (station,) in c.execute("SELECT id FROM stations").fetchall():
        # the (station_id, ts) index makes each MIN one seek; a MIN over all would scan
        ts = oldest_meter_value(c, station)
        if ts is not None and (oldest is None or ts < oldest):
            oldest = ts
    return oldest


def temperatures_between(c: sqlite3.Connection, start: float, end: float,
                         locations: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """(station_id, evse_id, connector_id, location, instance, ts, celsius) in [start, end)."""
    marks = ", ".join("?" for _ in locations)
    return c.execute(
        "SELECT station_id, evse_id, connector_id, location, COALESCE(instance, ''), ts, celsius "
        f"FROM temperatures WHERE ts >= ? AND ts < ? AND location IN ({marks})",
        (start, end, *locations),
    ).fetchall()


def currents_between(c: sqlite3.Connection, station_id: str, start: float, end: float) -> list[tuple[Any, ...]]:
    """(evse_id, ts, amps) of one station in [start, end], oldest first; amps: the highest phase."""
    return c.execute(_CURRENTS, (station_id, start, end)).fetchall()


# --- reads -------------------------------------------------------------------------------


class HealthTemperatureStore:
    _writer: Writer

    async def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:  # from Reads
        raise NotImplementedError

    async def fold_temperature_load(self, step: Callable[..., Any], *args: Any) -> Any:
        """Run one fold step `step(conn, *args)` (zaspot.health.loadtemp.fold_step) as one
        writer op, on the writer's thread: its sums and its mark commit together."""
        return await self._writer.call_long(step, *args)

    async def health_mark(self, name: str) -> float | None:
        rows = await self._query("SELECT upto FROM health_marks WHERE name = ?", (name,))
        return rows[0]["upto"] if rows else None

    async def temperature_load_days(self, station_id: str | None = None,
                                    before_day: str | None = None) -> list[dict[str, Any]]:
        """The daily sums, per series in day order: station_id, evse_id, connector_id, location,
        instance ('' for none), day, n, sum_i, sum_t, sum_ii, sum_it, sum_tt. `before_day`
        ('2026-11-20') leaves out that day and later ones (a day still being folded)."""
        sql = "SELECT * FROM temperature_load_daily WHERE 1 = 1"
        params: tuple[Any, ...] = ()
        if station_id is not None:
            sql, params = sql + " AND station_id = ?", (*params, station_id)
        if before_day is not None:
            sql, params = sql + " AND day < ?", (*params, before_day)
        return await self._query(sql + " ORDER BY station_id, evse_id, connector_id, location, instance, day",
                                 params)
