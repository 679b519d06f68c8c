"""Unit steps that close stale transactions: ones a station left open when it booted again,
or that have been silent too long (zaspot.lifecycle.stale decides which).

A stale transaction ends at its last energy register reading (its start when it has
none): `meter_stop_wh` and `stopped_at` are that reading's, `state` is `stale` and
`stop_reason` says why. It gives a `transaction_stale` event and the usual
`transaction_ended` (stamped now, so rules and the EMS take it as news). A real stop
that arrives later still wins (zaspot.store.messages): stored whole, the row `ended`.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from zaspot.core import events as ev
from zaspot.core.lifecycle_events import TransactionStale

from .unit import Unit

ENERGY = "Energy.Active.Import.Register"
REBOOTED = "Stale: station rebooted"
# A 1.6 BootNotification we asked for (TriggerMessage) within this long is no reboot.
_TRIGGERED_WITHIN = 300.0
_COLUMNS = "id, station_id, tx_key, evse_id, connector_id, meter_start_wh, started_at"


def silent_reason(seconds: float) -> str:
    """"Stale: silent for 24 h" (the configured time, in the largest whole unit)."""
    for size, name in ((3600, "h"), (60, "min")):
        if seconds >= size and seconds % size == 0:
            return f"Stale: silent for {seconds / size:g} {name}"
    return f"Stale: silent for {seconds:g} s"


def _last_energy(c: sqlite3.Connection, station_id: str, tx_key: str,
                 started_at: float | None) -> tuple[float, float] | None:
    """(Wh, when) of the transaction's last energy register reading. The (station_id, ts)
    index bounds the search to the samples since its start."""
    row = c.execute(
        "SELECT value, ts FROM meter_samples WHERE station_id = ? AND ts >= ? AND tx_key = ? "
        "AND measurand = ? AND phase IS NULL AND after_tx_end IS NULL ORDER BY ts DESC, meter_value_id DESC "
        "LIMIT 1",
        (station_id, (started_at or 0.0) - 60.0, tx_key, ENERGY),
    ).fetchone()
    return None if row is None else (row[0], row[1])


def close(c: sqlite3.Connection, unit: Unit, tx: dict[str, Any], reason: str, now: float) -> bool:
    """Close one active transaction (a row of _COLUMNS) as stale; False if it is no longer active."""
    reading = _last_energy(c, tx["station_id"], tx["tx_key"], tx["started_at"])
    stop_wh, stopped_at = reading if reading else (tx["meter_start_wh"], tx["started_at"] or now)
    if c.execute(
        "UPDATE transactions SET state = 'stale', meter_stop_wh = ?, stopped_at = ?, stop_reason = ?, "
        "updated_at = ? WHERE id = ? AND state = 'active'",
        (stop_wh, stopped_at, reason, now, tx["id"]),
    ).rowcount == 0:
        return False
    evse_id, connector_id = tx["evse_id"] or 0, tx["connector_id"] or 0
    start = tx["meter_start_wh"]
    energy = None if stop_wh is None or start is None else stop_wh - start
    unit.emit(TransactionStale(tx["station_id"], tx["tx_key"], evse_id, connector_id, reason, stop_wh, time=now))
    unit.emit(ev.TransactionEnded(tx["station_id"], tx["tx_key"], evse_id, connector_id, stop_wh, energy, reason,
                                  time=now))
    return True


def _asked_to_boot(c: sqlite3.Connection, station_id: str, now: float) -> bool:
    return c.execute(
        "SELECT 1 FROM commands WHERE station_id = ? AND action = 'TriggerMessage' AND sent_at >= ? "
        "AND json_extract(payload, '$.requestedMessage') = 'BootNotification' LIMIT 1",
        (station_id, now - _TRIGGERED_WITHIN),
    ).fetchone() is not None


def close_at_boot(c: sqlite3.Connection, unit: Unit, station_id: str, reason: str | None) -> int:
    """A station booted: what it left open is stale. Not for a boot we triggered (2.0.1 says
    so in its reason; for 1.6 the commands table does), which is no reboot. How many closed."""
    now = time.time()
    if reason == "Triggered":
        return 0
    cur = c.execute(f"SELECT {_COLUMNS} FROM transactions WHERE station_id = ? AND state = 'active'",
                    (station_id,))
    cols = [d[0] for d in cur.description]
    open_ = [dict(zip(cols, row)) for row in cur.fetchall()]
    if not open_ or (reason is None and _asked_to_boot(c, station_id, now)):
        return 0
    return sum(close(c, unit, tx, REBOOTED, now) for tx in open_)


def close_silent(c: sqlite3.Connection, unit: Unit, transactions: list[dict[str, Any]], reason: str) -> int:
    """Close these transactions (rows of _COLUMNS) as silent, those still active."""
    now = time.time()
    return sum(close(c, unit, tx, reason, now) for tx in transactions)


class StaleStore:
    """The sweeper's reads (mixed into Store through ReservationStore)."""

    async def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:  # from Reads
        raise NotImplementedError

    async def active_transactions(self) -> list[dict[str, Any]]:
        """Every active transaction (a partial index keeps this cheap), with when it was last updated."""
        return await self._query(f"SELECT {_COLUMNS}, updated_at FROM transactions WHERE state = 'active' ORDER BY id")

    async def last_sample_at(self, station_id: str, tx_key: str, started_at: float | None) -> float | None:
        """When the transaction's last meter sample was taken (the station's clock)."""
        rows = await self._query(
            "SELECT MAX(ts) AS ts FROM meter_samples WHERE station_id = ? AND ts >= ? AND tx_key = ?",
            (station_id, (started_at or 0.0) - 60.0, tx_key))
        return rows[0]["ts"] if rows else None
