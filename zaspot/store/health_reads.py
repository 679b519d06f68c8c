"""Store: what fault analytics read: alarms, module trips, station models (zaspot.health.faults; #19 part 2).

A power module's trip is counted from its alarm: diagnostics opens one alarm per trip (component
`module`, from the module's `Tripped` variable: a 2.0.1 AcDcConverter's, or a 1.6 vendor's
mapped to it) and keeps it open while the module stays tripped, so a trip reported again and
again is still one. The alarms are kept for good (the event log's `power_module` events are
trimmed by retention), so last year's trips count as this month's do. An alarm superseded by a
more specific one (a generic `Faulted` status, then the device model's reason) is the same
fault: it is left out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .writer import Writer

# A module alarm raised by its Tripped variable (its origin ends ".Tripped", zaspot.diagnostics.faults).
_IS_TRIP = ("(a.component = 'module' AND json_valid(a.details) "
            "AND json_extract(a.details, '$.origin') LIKE '%.Tripped')")
# An alarm without an instance is module "1", as diagnostics' module tracker names it.
_MODULE = "COALESCE(NULLIF(a.instance, ''), '1')"


class HealthReads:
    _writer: Writer

    async def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:  # from Reads
        raise NotImplementedError

    async def alarms_raised_between(self, start: float, end: float,
                                    station_id: str | None = None) -> list[dict[str, Any]]:
        """Alarms raised in [start, end), oldest first, superseded ones left out: id, station_id,
        evse_id, connector_id, component, instance, code, raised_at, cleared_at (None: open),
        vendor, model (the station's, None when it never said), trip (1: a module trip)."""
        sql = (f"SELECT a.id, a.station_id, a.evse_id, a.connector_id, a.component, a.instance, a.code, "
               f"a.raised_at, a.cleared_at, s.vendor, s.model, {_IS_TRIP} AS trip "
               "FROM alarms a LEFT JOIN stations s ON s.id = a.station_id "
               "WHERE a.raised_at >= ? AND a.raised_at < ? AND a.superseded_by IS NULL")
        params: tuple[Any, ...] = (start, end)
        if station_id is not None:
            sql += " AND a.station_id = ?"
            params += (station_id,)
        return await self._query(sql + " ORDER BY a.raised_at, a.id", params)

    async def module_trips(self, start: float, end: float, station_id: str | None = None) -> list[dict[str, Any]]:
        """Power-module trips begun in [start, end) per module, most first: station_id, instance, trips."""
        sql = (f"SELECT a.station_id, {_MODULE} AS instance, COUNT(*) AS trips FROM alarms a "
               f"WHERE a.raised_at >= ? AND a.raised_at < ? AND a.superseded_by IS NULL AND {_IS_TRIP}")
        params: tuple[Any, ...] = (start, end)
        if station_id is not None:
            sql += " AND a.station_id = ?"
            params += (station_id,)
        return await self._query(sql + " GROUP BY 1, 2 ORDER BY trips DESC, a.station_id, instance", params)
