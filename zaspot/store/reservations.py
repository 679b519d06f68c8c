"""Store table of reservations, and the unit steps that change a reservation.

A reservation's id is its row id (the id the station is told). Its status:
`pending` while the station is asked, then `active` (accepted) or `rejected` (the
station's answer kept in `station_status`, why in `detail`); an active one ends
`used` (a transaction named it; `tx_key` says which), `cancelled` or `expired`.
Every change after `pending` is one `reservation_changed` event, written in the
same unit of work as the change.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from zaspot.core.lifecycle_events import ReservationChanged

from .rowid import inserted_id
from .stale import StaleStore
from .unit import Unit

if TYPE_CHECKING:
    from .writer import Writer

ACTIVE = "active"
_COLUMNS = ("id, station_id, evse_id, connector_id, id_token, group_id, expires_at, status, station_status, "
            "detail, source, tx_key, created_at, updated_at")


def _row(c: sqlite3.Connection, reservation_id: int) -> dict[str, Any] | None:
    cur = c.execute(f"SELECT {_COLUMNS} FROM reservations WHERE id = ?", (reservation_id,))
    row = cur.fetchone()
    return None if row is None else dict(zip([d[0] for d in cur.description], row))


def _changed(c: sqlite3.Connection, unit: Unit, reservation_id: int, ts: float) -> dict[str, Any]:
    """The row as it is now, and its event."""
    row = _row(c, reservation_id)
    assert row is not None
    unit.emit(ReservationChanged(
        row["station_id"], row["id"], row["evse_id"], row["connector_id"], row["id_token"], row["status"],
        row["expires_at"], row["tx_key"], row["detail"] or row["station_status"], time=ts,
    ))
    return row


def _insert(c: sqlite3.Connection, station_id: str, evse_id: int | None, connector_id: int | None,
            id_token: str, group_id: str | None, expires_at: float, source: str, ts: float) -> int:
    return inserted_id(c.execute(
        "INSERT INTO reservations (station_id, evse_id, connector_id, id_token, group_id, expires_at, status, "
        "source, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)",
        (station_id, evse_id, connector_id, id_token, group_id, expires_at, source, ts, ts),
    ))


# --- unit steps -------------------------------------------------------------------------


def answered(c: sqlite3.Connection, unit: Unit, reservation_id: int, accepted: bool, station_status: str | None,
             detail: str | None, ts: float) -> dict[str, Any]:
    """The station's answer to ReserveNow: active, or rejected with what it said. A
    transaction that used the reservation before the answer was stored keeps it used."""
    if c.execute(
        "UPDATE reservations SET status = ?, station_status = ?, detail = ?, updated_at = ? "
        "WHERE id = ? AND status = 'pending'",
        (ACTIVE if accepted else "rejected", station_status, detail, ts, reservation_id),
    ).rowcount:
        return _changed(c, unit, reservation_id, ts)
    row = _row(c, reservation_id)
    assert row is not None
    return row


def used(c: sqlite3.Connection, unit: Unit, station_id: str, reservation_id: int | None, tx_key: str,
         ts: float) -> None:
    """A transaction named the reservation (1.6 StartTransaction, 2.0.1 TransactionEvent
    reservationId): used by it, whatever we thought of it (the station honoured it). A
    reservation id that is not this station's is kept on the transaction only."""
    if reservation_id is None:
        return
    c.execute("UPDATE transactions SET reservation_id = COALESCE(reservation_id, ?) "
              "WHERE station_id = ? AND tx_key = ?", (reservation_id, station_id, tx_key))
    if c.execute(
        "UPDATE reservations SET status = 'used', tx_key = ?, updated_at = ? "
        "WHERE id = ? AND station_id = ? AND status != 'used'",
        (tx_key, ts, reservation_id, station_id),
    ).rowcount:
        _changed(c, unit, reservation_id, ts)


def cancelled(c: sqlite3.Connection, unit: Unit, reservation_id: int, detail: str | None,
              ts: float) -> dict[str, Any]:
    if c.execute("UPDATE reservations SET status = 'cancelled', detail = ?, updated_at = ? "
                 "WHERE id = ? AND status IN ('active', 'pending')", (detail, ts, reservation_id)).rowcount:
        return _changed(c, unit, reservation_id, ts)
    row = _row(c, reservation_id)
    assert row is not None
    return row


def ended_by_station(c: sqlite3.Connection, unit: Unit, station_id: str, reservation_id: int,
                     station_status: str, ts: float) -> bool:
    """2.0.1 ReservationStatusUpdate (Expired | Removed): the station holds it no longer;
    expired here too (one that ended here first keeps the station's word). False when the
    station named no reservation of its own."""
    row = c.execute("SELECT status FROM reservations WHERE id = ? AND station_id = ?",
                    (reservation_id, station_id)).fetchone()
    if row is None:
        return False
    if row[0] not in (ACTIVE, "pending"):
        c.execute("UPDATE reservations SET station_status = ? WHERE id = ?", (station_status, reservation_id))
        return True
    c.execute("UPDATE reservations SET status = 'expired', station_status = ?, detail = ?, updated_at = ? "
              "WHERE id = ?", (station_status, f"station said {station_status}", ts, reservation_id))
    _changed(c, unit, reservation_id, ts)
    return True


def abandoned(c: sqlite3.Connection, unit: Unit, ts: float) -> int:
    """At start: reservations still pending were being asked when the server stopped; the
    answer is lost, so they are rejected (a station that did accept one and uses it still
    makes it used). How many."""
    pending = [r[0] for r in c.execute("SELECT id FROM reservations WHERE status = 'pending' ORDER BY id")]
    for reservation_id in pending:
        c.execute("UPDATE reservations SET status = 'rejected', detail = ?, updated_at = ? WHERE id = ?",
                  ("zaspot stopped before the station answered", ts, reservation_id))
        _changed(c, unit, reservation_id, ts)
    return len(pending)


def expire(c: sqlite3.Connection, unit: Unit, reservation_ids: list[int], now: float) -> list[int]:
    """Those of `reservation_ids` still active and past their time: expired. Their ids."""
    done = []
    for reservation_id in reservation_ids:
        if c.execute(
            "UPDATE reservations SET status = 'expired', detail = 'time passed', updated_at = ? "
            "WHERE id = ? AND status = 'active' AND expires_at <= ?", (now, reservation_id, now),
        ).rowcount:
            _changed(c, unit, reservation_id, now)
            done.append(reservation_id)
    return done


# --- the mixin ----------------------------------------------------------------------------


class ReservationStore(StaleStore):
    """Mixed into Store (with the stale-transaction sweeper's reads)."""

    _writer: Writer

    async def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:  # from Reads
        raise NotImplementedError

    async def reservation_new(self, station_id: str, evse_id: int | None, connector_id: int | None, id_token: str,
                              group_id: str | None, expires_at: float, source: str, ts: float) -> int:
        """A pending reservation's row, before the station is asked: its id."""
        return await self._writer.call(_insert, station_id, evse_id, connector_id, id_token, group_id, expires_at,
                                       source, ts)

    async def active_reservations(self) -> list[dict[str, Any]]:
        """Every active reservation (a partial index keeps this cheap): soonest to expire first."""
        return await self._query(f"SELECT {_COLUMNS} FROM reservations WHERE status = 'active' ORDER BY expires_at")

    async def reservation(self, reservation_id: int) -> dict[str, Any] | None:
        rows = await self._query(f"SELECT {_COLUMNS} FROM reservations WHERE id = ?", (reservation_id,))
        return rows[0] if rows else None

    async def reservations(self, station_id: str | None = None, active_only: bool = False,
                           limit: int = 1000) -> list[dict[str, Any]]:
        """Newest first."""
        where, params = [], []
        if station_id is not None:
            where.append("station_id = ?")
            params.append(station_id)
        if active_only:
            where.append("status = 'active'")
        sql = f"SELECT {_COLUMNS} FROM reservations"
        if where:
            sql += " WHERE " + " AND ".join(where)
        return await self._query(sql + " ORDER BY id DESC LIMIT ?", (*params, limit))
