"""Store tables of the diagnostics layer: alarms, the temperature history of both
OCPP versions, and the last known state of every power module."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

import orjson

from zaspot.core.events import AlarmCleared, AlarmRaised

if TYPE_CHECKING:
    from .writer import Writer

_ALARM_CLEARED = "UPDATE alarms SET cleared_at = ?, superseded_by = ? WHERE id = ? AND cleared_at IS NULL"
POWER_MODULE = (
    "INSERT INTO power_modules (station_id, instance, enabled, problem, tripped, celsius, "
    "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (station_id, instance) DO UPDATE SET enabled = excluded.enabled, "
    "problem = excluded.problem, tripped = excluded.tripped, celsius = excluded.celsius, "
    "updated_at = excluded.updated_at"
)


def alarm_raised(c: sqlite3.Connection, unit: Any, alarm: Any) -> None:
    """A unit step: the alarm's row (its id set from it) and its AlarmRaised event."""
    alarm.id = c.execute(
        "INSERT INTO alarms (station_id, evse_id, connector_id, component, instance, code, "
        "severity, message, raised_at, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (alarm.station_id, alarm.evse_id, alarm.connector_id, alarm.component, alarm.instance, alarm.code,
         alarm.severity, alarm.message, alarm.raised_at, orjson.dumps(alarm.details or {}).decode()),
    ).lastrowid
    unit.emit(AlarmRaised(
        alarm.station_id, alarm.id, alarm.component, alarm.code, alarm.severity, alarm.message, alarm.evse_id,
        alarm.connector_id, alarm.instance, alarm.details, time=alarm.raised_at,
    ))


def alarm_cleared(c: sqlite3.Connection, unit: Any, alarm: Any, ts: float, superseded_by: str | None) -> None:
    """A unit step (after its raise, which may be in the same unit): closed, and AlarmCleared."""
    c.execute(_ALARM_CLEARED, (ts, superseded_by, alarm.id))
    unit.emit(AlarmCleared(
        alarm.station_id, alarm.id, alarm.component, alarm.code, alarm.severity, alarm.message,
        alarm.raised_at, alarm.evse_id, alarm.connector_id, alarm.instance, superseded_by, time=ts,
    ))


def flag(value: bool | None) -> int | None:
    return None if value is None else int(value)


def _decode_alarms(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for r in rows:
        r["details"] = orjson.loads(r["details"]) if r.get("details") else {}
    return rows


class DiagnosticsStore:
    _writer: Writer

    async def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:  # from Reads
        raise NotImplementedError

    # --- reads -------------------------------------------------------------

    async def alarms(self, station_id: str | None = None, open_only: bool = False,
                     limit: int = 100) -> list[dict[str, Any]]:
        """Newest first; `details` decoded."""
        where, params = [], []
        if station_id is not None:
            where.append("station_id = ?")
            params.append(station_id)
        if open_only:
            where.append("cleared_at IS NULL")
        sql = "SELECT * FROM alarms" + (" WHERE " + " AND ".join(where) if where else "")
        rows = await self._query(sql + " ORDER BY id DESC LIMIT ?", (*params, limit))
        return _decode_alarms(rows)

    async def open_alarms(self) -> list[dict[str, Any]]:
        """Every open alarm of the fleet, oldest first (restored on start)."""
        rows = await self._query("SELECT * FROM alarms WHERE cleared_at IS NULL ORDER BY id")
        return _decode_alarms(rows)

    async def temperatures_of(self, station_id: str, since: float | None = None,
                              location: str | None = None,
                              limit: int = 1000) -> list[dict[str, Any]]:
        """Oldest first: the first `limit` readings at ts >= since (all when since is None)."""
        sql = "SELECT * FROM temperatures WHERE station_id = ? AND ts >= ?"
        params: list[Any] = [station_id, since or 0.0]
        if location is not None:
            sql += " AND location = ?"
            params.append(location)
        return await self._query(sql + " ORDER BY ts, rowid LIMIT ?", (*params, limit))

    async def power_modules(self, station_id: str | None = None) -> list[dict[str, Any]]:
        """Last known state per module; flags as 0/1/None."""
        if station_id is None:
            return await self._query("SELECT * FROM power_modules ORDER BY station_id, instance")
        return await self._query(
            "SELECT * FROM power_modules WHERE station_id = ? ORDER BY instance", (station_id,)
        )
