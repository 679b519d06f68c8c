"""What the fleet looked like when the server last ran, read back at start.

The fleet state (zaspot.core.state) is a projection of the store: on start it is
rebuilt from these rows, then kept current from committed events. So a station that
resumes without booting, or one that stays away, is shown as it last was.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from zaspot.core.events import StationOffline

_POWER = "Power.Active.Import"
_ENERGY = "Energy.Active.Import.Register"
RECENT_SAMPLES = 64  # per station: enough to hold every connector's latest power and energy
RECENT_TEMPERATURES = 64


def _rows(c: sqlite3.Connection, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    cur = c.execute(sql, params)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row)) for row in cur.fetchall()]


def snapshot(c: sqlite3.Connection) -> dict[str, Any]:
    """Stations, connectors, running transactions, each connector's latest power and
    energy, each place's latest temperature (run on a read connection)."""
    stations = _rows(c, "SELECT * FROM stations ORDER BY id")
    meters: list[dict[str, Any]] = []
    temperatures: list[dict[str, Any]] = []
    for s in stations:
        meters.extend(_latest(_rows(
            c, "SELECT evse_id, connector_id, measurand, value, ts FROM meter_samples "
               "WHERE station_id = ? AND phase IS NULL ORDER BY ts DESC, meter_value_id DESC LIMIT ?",
            (s["id"], RECENT_SAMPLES)), ("evse_id", "connector_id", "measurand"), s["id"]))
        temperatures.extend(_latest(_rows(
            c, "SELECT location, instance, evse_id, connector_id, celsius, ts FROM temperatures "
               "WHERE station_id = ? ORDER BY ts DESC LIMIT ?",
            (s["id"], RECENT_TEMPERATURES)), ("location", "instance", "evse_id", "connector_id"), s["id"]))
    return {
        "stations": stations,
        "connectors": _rows(c, "SELECT * FROM connectors ORDER BY station_id, evse_id, connector_id"),
        "transactions": _rows(c, "SELECT station_id, tx_key, evse_id, connector_id, started_at FROM transactions "
                                 "WHERE state = 'active' ORDER BY id"),
        "meters": [m for m in meters if m["measurand"] in (_POWER, _ENERGY)],
        "temperatures": temperatures,
        "reservations": _rows(c, "SELECT id, station_id, evse_id, connector_id FROM reservations "
                                 "WHERE status = 'active' ORDER BY id"),
    }


def _latest(rows: list[dict[str, Any]], key: tuple[str, ...], station_id: str) -> list[dict[str, Any]]:
    """The first (newest) row per key, each with its station."""
    seen: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in rows:
        seen.setdefault(tuple(r[k] for k in key), {**r, "station_id": station_id})
    return list(seen.values())


def away_at_start(c: sqlite3.Connection, unit: Any, ts: float) -> None:
    """A unit step at start: no station is connected yet. Those the store still says
    were (the server stopped without closing them) are set not connected, and every
    known station is offline until it connects (so `offline for 5m` rules hold for it)."""
    rows = c.execute("SELECT id, connected, last_seen FROM stations ORDER BY id").fetchall()
    c.execute("UPDATE stations SET connected = 0 WHERE connected = 1")
    for station_id, connected, last_seen in rows:
        reason = "connected when the server stopped" if connected else "not connected"
        unit.emit(StationOffline(station_id, last_seen or 0.0, reason, time=ts))
