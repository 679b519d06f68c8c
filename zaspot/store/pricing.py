"""Store table of session costs (zaspot.pricing.service): each transaction's cost with all
it was computed from, and the reads a receipt, a listing and a restart need.

A session's energy register readings are its transaction's own: its start and stop
readings, and the Energy.Active.Import.Register samples (whole-EVSE, at the outlet) that
name it, or that name no transaction on its EVSE while it ran; not the ones that arrived
after it ended.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

import orjson

from .messages import ENERGY

if TYPE_CHECKING:
    from .writer import Writer

_TX_COLUMNS = ("id, station_id, tx_key, evse_id, connector_id, id_token, meter_start_wh, meter_stop_wh, "
               "started_at, stopped_at, state")
_COST_COLUMNS = ("tariff, currency, energy_wh, cost_excl_vat, cost_incl_vat, periods, terms, readings, detail, "
                 "final, updated_at")
_SAVE = (
    "INSERT INTO session_costs (transaction_id, station_id, tx_key, tariff, currency, energy_wh, cost_excl_vat, "
    "cost_incl_vat, periods, terms, readings, detail, final, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (transaction_id) DO UPDATE SET tariff = excluded.tariff, currency = excluded.currency, "
    "energy_wh = excluded.energy_wh, cost_excl_vat = excluded.cost_excl_vat, "
    "cost_incl_vat = excluded.cost_incl_vat, periods = excluded.periods, terms = excluded.terms, "
    "readings = excluded.readings, detail = excluded.detail, final = excluded.final, "
    "updated_at = excluded.updated_at "
    "WHERE session_costs.final = 0 OR excluded.final = 1"  # a final cost is never replaced by a running one
)
_JSON = ("periods", "terms", "readings", "detail")
# Time a station's clock may put a transaction's own first sample before its start.
_SKEW = 60.0


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _row(cur: sqlite3.Cursor) -> dict[str, Any] | None:
    row = cur.fetchone()
    return None if row is None else dict(zip([d[0] for d in cur.description], row))


def transaction(c: sqlite3.Connection, station_id: str, tx_key: str) -> dict[str, Any] | None:
    return _row(c.execute(f"SELECT {_TX_COLUMNS} FROM transactions WHERE station_id = ? AND tx_key = ?",
                          (station_id, tx_key)))


def energy_readings(c: sqlite3.Connection, tx: dict[str, Any]) -> list[tuple[float, float]]:
    """(ts, Wh) of the transaction's energy register, oldest first."""
    start, stop = tx["started_at"], tx["stopped_at"] if tx["state"] != "active" else None
    out: list[tuple[float, float]] = []
    if start is not None and tx["meter_start_wh"] is not None:
        out.append((start, tx["meter_start_wh"]))
    if start is not None:
        rows = c.execute(
            "SELECT ts, value FROM meter_samples WHERE station_id = ? AND ts >= ? AND ts <= ? "
            "AND (tx_key = ? OR (tx_key IS NULL AND evse_id IS ? AND ts >= ?)) "
            "AND measurand = ? AND phase IS NULL AND COALESCE(location, 'Outlet') = 'Outlet' "
            "AND after_tx_end IS NULL AND value IS NOT NULL ORDER BY ts, meter_value_id, position",
            (tx["station_id"], start - _SKEW, stop if stop is not None else float("inf"), tx["tx_key"],
             tx["evse_id"], start, ENERGY),
        ).fetchall()
        out.extend((ts, value) for ts, value in rows)
    if stop is not None and tx["meter_stop_wh"] is not None:
        out.append((stop, tx["meter_stop_wh"]))
    out.sort(key=lambda r: r[0])  # stable: a start reading stays before a sample of its moment
    return out


def cost_row(c: sqlite3.Connection, transaction_id: int) -> dict[str, Any] | None:
    row = _row(c.execute(f"SELECT {_COST_COLUMNS} FROM session_costs WHERE transaction_id = ?",
                         (transaction_id,)))
    return None if row is None else _decode(row)


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    for col in _JSON:
        if isinstance(row.get(col), (str, bytes)):
            row[col] = orjson.loads(row[col])
    return row


def save_cost(c: sqlite3.Connection, tx: dict[str, Any], saved: dict[str, Any], now: float) -> None:
    """Store a cost as zaspot.pricing.cost.stored() gives it."""
    detail = {k: v for k, v in saved.items() if k not in (*_JSON, "tariff", "currency", "energy_wh", "final")}
    c.execute(_SAVE, (tx["id"], tx["station_id"], tx["tx_key"], saved["tariff"], saved["currency"],
                      saved["energy_wh"], saved["excl_vat"], saved["incl_vat"], _dumps(saved["periods"]),
                      _dumps(saved["terms"]), _dumps(saved["readings"]), _dumps(detail), int(saved["final"]), now))


def as_stored(row: dict[str, Any]) -> dict[str, Any]:
    """A session_costs row back in the shape zaspot.pricing.cost.stored() gave it."""
    return {**row["detail"], "tariff": row["tariff"], "currency": row["currency"], "energy_wh": row["energy_wh"],
            "excl_vat": row["cost_excl_vat"], "incl_vat": row["cost_incl_vat"], "final": bool(row["final"]),
            "periods": row["periods"], "terms": row["terms"], "readings": row["readings"]}


def session_inputs(c: sqlite3.Connection, station_id: str, tx_key: str) -> dict[str, Any] | None:
    """A transaction, its readings and its stored cost (or None): what a cost is computed from."""
    tx = transaction(c, station_id, tx_key)
    if tx is None or tx["state"] == "orphan":
        return None
    return {"tx": tx, "readings": energy_readings(c, tx), "cost": cost_row(c, tx["id"])}


_LIST = (
    "SELECT t.id AS session_id, t.station_id, t.tx_key, t.evse_id, t.connector_id, t.id_token, t.started_at, "
    "t.stopped_at, t.state, t.meter_start_wh, t.meter_stop_wh, c.tariff, c.currency, c.energy_wh, "
    "c.cost_excl_vat, c.cost_incl_vat, c.final, c.detail {extra}"
    "FROM transactions t LEFT JOIN session_costs c ON c.transaction_id = t.id "
    "WHERE t.state != 'orphan' AND t.started_at IS NOT NULL"
)


class PricingStore:
    _writer: Writer

    async def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:  # from Reads
        raise NotImplementedError

    async def sessions(self, station_id: str | None = None, id_token: str | None = None, since: float | None = None,
                       until: float | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Transactions (started in [since, until)) with their costs, newest first."""
        sql, params = _LIST.format(extra=""), []
        for clause, value in (("t.station_id = ?", station_id), ("t.id_token = ?", id_token),
                              ("t.started_at >= ?", since), ("t.started_at < ?", until)):
            if value is not None:
                sql += f" AND {clause}"
                params.append(value)
        rows = await self._query(sql + " ORDER BY t.started_at DESC, t.id DESC LIMIT ?", (*params, limit))
        return [_decode(r) for r in rows]

    async def session(self, tx_key: str, station_id: str | None = None) -> list[dict[str, Any]]:
        """The transaction(s) with this key (one per station), with their costs and periods."""
        sql, params = _LIST.format(extra=", c.periods, c.terms ") + " AND t.tx_key = ?", [tx_key]
        if station_id is not None:
            sql += " AND t.station_id = ?"
            params.append(station_id)
        return [_decode(r) for r in await self._query(sql + " ORDER BY t.id", tuple(params))]

    async def session_inputs(self, station_id: str, tx_key: str) -> dict[str, Any] | None:
        return await self._writer.read(session_inputs, station_id, tx_key)

    async def stored_cost(self, station_id: str, tx_key: str) -> dict[str, Any] | None:
        """A session's stored cost as stored() gave it, or None."""
        inputs = await self.session_inputs(station_id, tx_key)
        return None if inputs is None or inputs["cost"] is None else as_stored(inputs["cost"])

    async def costs_to_finish(self) -> list[tuple[str, str]]:
        """(station_id, tx_key) of costs not final whose transaction has ended (while zaspot was away)."""
        rows = await self._query(
            "SELECT c.station_id, c.tx_key FROM session_costs c JOIN transactions t ON t.id = c.transaction_id "
            "WHERE c.final = 0 AND t.state IN ('ended', 'stale') ORDER BY c.transaction_id")
        return [(r["station_id"], r["tx_key"]) for r in rows]

    async def running_transactions(self) -> list[tuple[str, str]]:
        rows = await self._query("SELECT station_id, tx_key FROM transactions WHERE state = 'active' "
                                 "AND tx_key IS NOT NULL ORDER BY id")
        return [(r["station_id"], r["tx_key"]) for r in rows]
