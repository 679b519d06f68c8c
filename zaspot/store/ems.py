"""Store tables for energy management: each EVSE's current limit with its reason, every
limit sent with the station's answer (rejections included), the latest site state, and
the prices the planner used."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from .writer import Writer

_LIMIT = """
INSERT INTO ems_limits (station_id, evse_id, amps, watts, reason, ok, error, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (station_id, evse_id) DO UPDATE SET amps = excluded.amps, watts = excluded.watts,
    reason = excluded.reason, ok = excluded.ok, error = excluded.error, updated_at = excluded.updated_at
"""
_LOG = """INSERT INTO ems_limit_log (ts, station_id, evse_id, amps, previous, reason, ok, error)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)"""
_STATE = """INSERT INTO ems_state (id, ts, strategy, data) VALUES (1, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET ts = excluded.ts, strategy = excluded.strategy, data = excluded.data"""
_PRICE = """INSERT INTO ems_prices (start, end, price, unit) VALUES (?, ?, ?, ?)
ON CONFLICT (start) DO UPDATE SET end = excluded.end, price = excluded.price, unit = excluded.unit"""


class EmsStore:
    _writer: Writer

    async def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:  # from Reads
        raise NotImplementedError

    async def ems_limit(self, station_id: str, evse_id: int, amps: float, watts: float, reason: str,
                        previous: float | None, ok: bool, error: str | None, ts: float) -> None:
        """A limit sent to a station and its answer: the current one, and the history."""
        await self._writer.submit(_LIMIT, [(station_id, evse_id, amps, watts, reason, ok, error, ts)])
        await self._writer.submit(_LOG, [(ts, station_id, evse_id, amps, previous, reason, ok, error)])

    async def ems_state(self, ts: float, strategy: str, data: dict[str, Any]) -> None:
        await self._writer.submit(_STATE, [(ts, strategy, orjson.dumps(data).decode())])

    async def ems_prices(self, slots: list[dict[str, Any]]) -> None:
        await self._writer.submit(_PRICE, [(s["start"], s["end"], s["price"], s["unit"]) for s in slots])

    async def ems_limits(self) -> list[dict[str, Any]]:
        return await self._query("SELECT * FROM ems_limits ORDER BY station_id, evse_id")

    async def ems_limit_log(self, station_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        where, params = ("WHERE station_id = ?", (station_id,)) if station_id else ("", ())
        return await self._query(f"SELECT * FROM ems_limit_log {where} ORDER BY id DESC LIMIT ?", (*params, limit))

    async def ems_last_state(self) -> dict[str, Any] | None:
        rows = await self._query("SELECT ts, strategy, data FROM ems_state WHERE id = 1")
        return {**rows[0], "data": orjson.loads(rows[0]["data"])} if rows else None
