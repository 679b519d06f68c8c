"""Store: ports, outages and exclusions (zaspot.health.outages, exclusions; #19 part 1).

`health_ports` and `outages` have one writer, the health consumer (zaspot.health.outages),
which commits them with its position in the event log; this mixin reads them. A
`health_ports` row with evse 0 and connector 0 is the station itself (its connection and
its own status): `health_ports()` leaves it out, `health_state()` has it.
`health_exclusions` is written here: the config's maintenance windows (source "config",
replaced at each start) and the operator's (source "api").
"""

from __future__ import annotations

import sqlite3
import time
from typing import TYPE_CHECKING, Any

import orjson

from .rowid import inserted_id

if TYPE_CHECKING:
    from .writer import Writer

_PORT_COLUMNS = "station_id, evse_id, connector_id, first_seen, status, error_code, networked"
_OUTAGE_COLUMNS = "id, station_id, evse_id, connector_id, cause, code, detail, started, ended"
_EXCLUSION_COLUMNS = ("id, station_id, evse_id, connector_id, start_ts AS start, end_ts AS end, reason, "
                      "source")
_ADD_EXCLUSION = ("INSERT INTO health_exclusions (station_id, evse_id, connector_id, start_ts, end_ts, "
                  "reason, source, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")


def _replace_config(c: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> int:
    c.execute("DELETE FROM health_exclusions WHERE source = 'config'")
    c.executemany(_ADD_EXCLUSION, rows)
    return len(rows)


def _add(c: sqlite3.Connection, row: tuple[Any, ...]) -> int:
    return inserted_id(c.execute(_ADD_EXCLUSION, row))


def _remove(c: sqlite3.Connection, exclusion_id: int) -> bool:
    return c.execute("DELETE FROM health_exclusions WHERE id = ?", (exclusion_id,)).rowcount > 0


def exclusion_row(start: float, end: float, reason: str, station_id: str | None, evse_id: int | None,
                  connector_id: int | None, source: str) -> tuple[Any, ...]:
    """A checked row for health_exclusions (ValueError says what is wrong)."""
    start, end = float(start), float(end)
    if end <= start:
        raise ValueError(f"the end ({end}) is not after the start ({start})")
    if not str(reason or "").strip():
        raise ValueError("a reason is needed (what the time was excluded for)")
    if connector_id is not None and evse_id is None:
        raise ValueError("a connector needs its evse")
    return (station_id, evse_id, connector_id, start, end, str(reason).strip(), source, time.time())


class HealthOutageStore:
    _writer: Writer

    async def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:  # from Reads
        raise NotImplementedError

    # --- ports and outages (written by zaspot.health.outages only) -----------------------

    async def health_ports(self) -> list[dict[str, Any]]:
        """Every charging port health has seen: station_id, evse_id, connector_id, first_seen,
        status, error_code, networked (its station's connection as last seen)."""
        return await self._query(
            f"SELECT {_PORT_COLUMNS} FROM health_ports WHERE connector_id > 0 "
            "ORDER BY station_id, evse_id, connector_id")

    async def health_state(self) -> list[dict[str, Any]]:
        """health_ports() and the stations' own rows (evse 0, connector 0), with updated_at."""
        return await self._query(f"SELECT {_PORT_COLUMNS}, updated_at FROM health_ports")

    async def open_outages(self) -> list[dict[str, Any]]:
        return await self._query(f"SELECT {_OUTAGE_COLUMNS} FROM outages WHERE ended IS NULL ORDER BY id")

    async def last_outage_id(self) -> int:
        rows = await self._query("SELECT COALESCE(MAX(id), 0) AS id FROM outages")
        last: int = rows[0]["id"]
        return last

    async def outages_between(self, start: float, end: float,
                              station_id: str | None = None) -> list[dict[str, Any]]:
        """Outages overlapping [start, end), oldest first (ended None: still open)."""
        sql = (f"SELECT {_OUTAGE_COLUMNS} FROM outages "
               "WHERE started < ? AND (ended IS NULL OR ended > ?)")
        params: tuple[Any, ...] = (end, start)
        if station_id is not None:
            sql += " AND station_id = ?"
            params += (station_id,)
        return await self._query(sql + " ORDER BY started, id", params)

    async def outage_spans(self, start: float, cap: float,
                           station_id: str | None = None) -> dict[tuple[str, int, int], list[list[Any]]]:
        """Each port's outages overlapping [start, cap) as [cause, start, end], cut to the window
        (an open one ends at `cap`), for uptime: one row per port, the spans packed as JSON by
        SQLite, since a year of a fleet's outages is 100,000 rows a dict each would cost more
        than the arithmetic on them (times to 15 significant digits: 10 µs)."""
        sql = ("SELECT station_id, evse_id, connector_id, json_group_array(json_array(cause, MAX(started, ?), "
               "MIN(COALESCE(ended, ?), ?))) AS spans FROM outages WHERE started < ? AND (ended IS NULL OR ended > ?)")
        params: tuple[Any, ...] = (start, cap, cap, cap, start)
        if station_id is not None:
            sql += " AND station_id = ?"
            params += (station_id,)
        rows = await self._query(sql + " GROUP BY station_id, evse_id, connector_id", params)
        return {(r["station_id"], r["evse_id"], r["connector_id"]): orjson.loads(r["spans"]) for r in rows}

    # --- excluded time -------------------------------------------------------------------

    async def exclusions_between(self, start: float, end: float) -> list[dict[str, Any]]:
        """Exclusions overlapping [start, end): id, station_id (None: every station), evse_id,
        connector_id (None: every one), start, end, reason, source."""
        return await self._query(
            f"SELECT {_EXCLUSION_COLUMNS} FROM health_exclusions WHERE start_ts < ? AND end_ts > ? "
            "ORDER BY start_ts, id", (end, start))

    async def all_exclusions(self) -> list[dict[str, Any]]:
        return await self._query(f"SELECT {_EXCLUSION_COLUMNS} FROM health_exclusions ORDER BY start_ts, id")

    async def add_exclusion(self, start: float, end: float, reason: str, station_id: str | None = None,
                            evse_id: int | None = None, connector_id: int | None = None,
                            source: str = "api") -> int:
        """A span not counted against uptime; its id. ValueError for a span that is not one."""
        row = exclusion_row(start, end, reason, station_id, evse_id, connector_id, source)
        return await self._writer.call(_add, row)

    async def remove_exclusion(self, exclusion_id: int) -> bool:
        return await self._writer.call(_remove, int(exclusion_id))

    async def replace_config_exclusions(self, rows: list[tuple[Any, ...]]) -> int:
        """The config's windows (rows from exclusion_row, source "config") instead of the last
        start's, in one transaction; the API's stay."""
        return await self._writer.call(_replace_config, rows)
