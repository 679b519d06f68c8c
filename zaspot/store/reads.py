"""Read queries of the Store. Rows come back as plain dicts; JSON columns decoded."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from .writer import Writer

_JSON_COLUMNS = ("data", "payload", "result")
# A sampled value as the API gives it: meter_samples' columns but its ordering ones.
_SAMPLE_COLUMNS = ("station_id, evse_id, connector_id, tx_key, ts, measurand, phase, location, context, unit, "
                   "value, after_tx_end")
_PACKED = ("measurand", "phase", "location", "context", "unit")  # a packed sample's fields, its value last


def _real(value: Any) -> float | None:
    """A packed value as the meter_samples view gives it (REAL)."""
    return None if value is None else float(value)


def _fetch_dicts(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
    cur = conn.execute(sql, params)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row)) for row in cur.fetchall()]


def _decode(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for r in rows:
        for col in _JSON_COLUMNS:
            v = r.get(col)
            if v is not None:
                r[col] = orjson.loads(v)
    return rows


class Reads:
    _reader: Any  # aiosqlite.Connection | None
    _writer: Writer

    async def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        if self._reader is None:  # ':memory:' — only the writer's connection sees the data
            return await self._writer.read(_fetch_dicts, sql, params)
        rows = await self._reader.execute_fetchall(sql, params)
        return [dict(r) for r in rows]

    async def station(self, station_id: str) -> dict[str, Any] | None:
        rows = await self._query("SELECT * FROM stations WHERE id = ?", (station_id,))
        return rows[0] if rows else None

    async def stations(self) -> list[dict[str, Any]]:
        return await self._query("SELECT * FROM stations ORDER BY id")

    async def connectors(self, station_id: str) -> list[dict[str, Any]]:
        return await self._query(
            "SELECT * FROM connectors WHERE station_id = ? ORDER BY evse_id, connector_id",
            (station_id,),
        )

    async def transactions(self, station_id: str | None = None,
                           limit: int = 100) -> list[dict[str, Any]]:
        """Newest first."""
        if station_id is None:
            return await self._query(
                "SELECT * FROM transactions ORDER BY id DESC LIMIT ?", (limit,))
        return await self._query(
            "SELECT * FROM transactions WHERE station_id = ? ORDER BY id DESC LIMIT ?",
            (station_id, limit),
        )

    async def transaction(self, station_id: str, tx_key: str | int) -> dict[str, Any] | None:
        rows = await self._query(
            "SELECT * FROM transactions WHERE station_id = ? AND tx_key = ?",
            (station_id, str(tx_key)),
        )
        return rows[0] if rows else None

    async def transaction_events(self, station_id: str,
                                 tx_key: str | int) -> list[dict[str, Any]]:
        """A 2.0.1 transaction's events in seq_no order."""
        return await self._query(
            "SELECT * FROM transaction_events WHERE station_id = ? AND tx_key = ? "
            "ORDER BY seq_no, id",
            (station_id, str(tx_key)),
        )

    async def meter_samples_of(self, station_id: str, since: float | None = None,
                               limit: int = 1000) -> list[dict[str, Any]]:
        """Oldest first. With `since`: the first `limit` samples at ts >= since;
        without: the latest `limit` samples."""
        if since is not None:
            return await self._query(
                f"SELECT {_SAMPLE_COLUMNS} FROM meter_samples WHERE station_id = ? AND ts >= ? "
                "ORDER BY ts, meter_value_id, position LIMIT ?",
                (station_id, since, limit),
            )
        # The latest `limit` meter values hold the latest `limit` samples: their ids read
        # from the end of the station index and from the unfiled few (store/filing.py).
        rows = await self._query(
            "SELECT station_id, evse_id, connector_id, tx_key, ts, samples, after_tx_end FROM meter_values "
            "WHERE id IN (SELECT id FROM (SELECT value_id AS id FROM meter_index WHERE station_id = ? "
            "ORDER BY ts DESC, value_id DESC LIMIT ?) UNION ALL SELECT id FROM (SELECT id FROM meter_values "
            "WHERE id > (SELECT upto FROM meter_filed) AND station_id = ? ORDER BY ts DESC, id DESC LIMIT ?)) "
            "ORDER BY ts DESC, id DESC LIMIT ?",
            (station_id, limit, station_id, limit, limit))
        samples = [{**{k: r[k] for k in ("station_id", "evse_id", "connector_id", "tx_key", "ts")},
                    **dict(zip(_PACKED, packed)), "value": _real(packed[5]), "after_tx_end": r["after_tx_end"]}
                   for r in rows for packed in reversed(orjson.loads(r["samples"]))][:limit]
        samples.reverse()
        return samples

    async def events(self, station_id: str | None = None, type: str | None = None,
                     limit: int = 100) -> list[dict[str, Any]]:
        """Newest first; `data` is the event's to_dict()."""
        where: list[str] = []
        params: list[Any] = []
        if station_id is not None:
            where.append("station_id = ?")
            params.append(station_id)
        if type is not None:
            where.append("type = ?")
            params.append(type)
        sql = "SELECT * FROM events"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id DESC LIMIT ?"
        params.append(limit)
        rows = _decode(await self._query(sql, tuple(params)))
        for r in rows:  # the log position is the row's id
            if isinstance(r.get("data"), dict):
                r["data"]["seq"] = r["id"]
        return rows

    async def commands(self, station_id: str | None = None,
                       limit: int = 100) -> list[dict[str, Any]]:
        """Newest first; payload and result decoded."""
        if station_id is None:
            rows = await self._query("SELECT * FROM commands ORDER BY id DESC LIMIT ?", (limit,))
        else:
            rows = await self._query(
                "SELECT * FROM commands WHERE station_id = ? ORDER BY id DESC LIMIT ?",
                (station_id, limit),
            )
        return _decode(rows)
