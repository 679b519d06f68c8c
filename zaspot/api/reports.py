"""Operator API: reports/*: fleet health (zaspot.health), computed from the store when asked.

    reports/monthly     {month?}                      -> the monthly report (zaspot.health.report)
    reports/availability {start?, end?, days?, station_id?} -> uptime per port, station and site
    reports/outages     {start?, end?, station_id?}   -> outage intervals with their cause
    reports/faults      {month? | start?, end?}       -> fault analytics
    reports/temperature {station_id?}                 -> temperature per ampere and the drift test
    reports/snapshot    {}                            -> each station's recent health (the TUI's view)
    reports/exclusions  {}                            -> maintenance windows and other excluded time
    reports/exclusions/add    {start, end, reason, station_id?, evse_id?, connector_id?} -> {"id", ...}
    reports/exclusions/remove {exclusion_id}          -> {"removed": exclusion_id}

A month is "YYYY-MM" in the health timezone (default: the last complete month). start and
end are epoch seconds or ISO 8601 (a time without an offset is in the health timezone);
without them a window is the last `days` days (30) up to now. Exclusions come back with
`start_local` / `end_local`: their times in the health timezone, as an operator wrote them.
An exclusion is named by `exclusion_id` (a message's own `id` is the API's).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from zaspot.api.registry import ApiError, arg, handler
from zaspot.health import calendar, drift, uptime
from zaspot.health import report as health_report
from zaspot.health.faults import analytics
from zaspot.health.report import ReportError

if TYPE_CHECKING:
    from zaspot.api.websocket import ApiConnection

DAY = 86_400.0


def _config(conn: ApiConnection) -> Any:
    return conn.ctx.config.health


async def _known_station(conn: ApiConnection, msg: dict[str, Any]) -> str | None:
    station_id = _station(msg)
    if station_id is not None and await conn.ctx.store.station(station_id) is None:
        raise ApiError("not_found", f"no station {station_id!r}")
    return station_id


def _station(msg: dict[str, Any]) -> str | None:
    return arg(msg, "station_id", str, None)


def _window(conn: ApiConnection, msg: dict[str, Any], now: float) -> tuple[float, float]:
    """[start, end) from start/end/days: the last `days` (30) days up to now by default."""
    zone = _config(conn).zone
    days = arg(msg, "days", (int, float), 30)
    if not 0 < days <= 3660:
        raise ApiError("invalid_format", f"'days' must be between 0 and 3660, not {days}")
    try:
        end = health_report.moment(msg["end"], zone, "end") if msg.get("end") is not None else now
        start = (health_report.moment(msg["start"], zone, "start") if msg.get("start") is not None
                 else end - days * DAY)
        return health_report.window(start, end)
    except ReportError as exc:
        raise ApiError("invalid_format", str(exc)) from None


def _month(msg: dict[str, Any]) -> str | None:
    month = arg(msg, "month", str, None)
    try:
        return None if month is None else health_report.check_month(month)
    except ReportError as exc:
        raise ApiError("invalid_format", str(exc)) from None


@handler("reports/monthly")
async def reports_monthly(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    try:
        return await health_report.monthly(conn.ctx.store, _config(conn), _month(msg), time.time())
    except ReportError as exc:
        raise ApiError("invalid_format", str(exc)) from None


@handler("reports/availability")
async def reports_availability(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    start, end = _window(conn, msg, time.time())
    return await uptime.availability(conn.ctx.store, _config(conn), start, end, _station(msg))


@handler("reports/outages")
async def reports_outages(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    """The outages overlapping the window, each with its minutes inside it."""
    now = time.time()
    start, end = _window(conn, msg, now)
    rows = await conn.ctx.store.outages_between(start, end, _station(msg))
    return health_report.with_minutes(rows, start, min(end, now))


@handler("reports/faults")
async def reports_faults(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    """Fault analytics of a month ({month}; the last complete one by default) or of {start, end}."""
    config, now = _config(conn), time.time()
    if msg.get("start") is not None or msg.get("end") is not None:
        if msg.get("month") is not None:
            raise ApiError("invalid_format", "give a month or a start and end, not both")
        start, end = _window(conn, msg, now)
    else:
        start, end = calendar.month_bounds(_month(msg) or calendar.last_month(now, config.zone), config.zone)
    availability = await uptime.availability(conn.ctx.store, config, start, end, now=now)
    return await analytics(conn.ctx.store, config, start, end, availability)


@handler("reports/temperature")
async def reports_temperature(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    return await drift.summary(conn.ctx.store, _config(conn), _station(msg))


@handler("reports/snapshot")
async def reports_snapshot(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    health = conn.ctx.health
    if health is None:
        raise ApiError("not_available", "fleet health is not running")
    return health.snapshot.stations


def _local(conn: ApiConnection, row: dict[str, Any]) -> dict[str, Any]:
    zone = _config(conn).zone
    return {**row, "start_local": health_report.iso(row["start"], zone),
            "end_local": health_report.iso(row["end"], zone)}


@handler("reports/exclusions")
async def reports_exclusions(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    return [_local(conn, row) for row in await conn.ctx.store.all_exclusions()]


def _port(msg: dict[str, Any], station_id: str | None) -> tuple[int | None, int | None]:
    evse_id, connector_id = arg(msg, "evse_id", int, None), arg(msg, "connector_id", int, None)
    for name, value in (("evse_id", evse_id), ("connector_id", connector_id)):
        if isinstance(value, bool) or (value is not None and value < 0):
            raise ApiError("invalid_format", f"'{name}' must be a number from 0")
    if (evse_id is not None or connector_id is not None) and station_id is None:
        raise ApiError("invalid_format", "an EVSE or connector needs its station_id")
    if connector_id is not None and evse_id is None:
        raise ApiError("invalid_format", "a connector needs its evse_id (on 1.6 the same number)")
    return evse_id, connector_id


@handler("reports/exclusions/add")
async def reports_exclusions_add(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    """Time not counted against uptime (maintenance): the whole site, a station, an EVSE or a port."""
    zone = _config(conn).zone
    reason = arg(msg, "reason", str)
    if not reason.strip():
        raise ApiError("invalid_format", "'reason' must say why (e.g. connector swap)")
    try:
        start, end = health_report.window(health_report.moment(arg(msg, "start", (str, int, float)), zone, "start"),
                                          health_report.moment(arg(msg, "end", (str, int, float)), zone, "end"))
    except ReportError as exc:
        raise ApiError("invalid_format", str(exc)) from None
    station_id = await _known_station(conn, msg)
    evse_id, connector_id = _port(msg, station_id)
    store = conn.ctx.store
    new_id = await store.add_exclusion(start, end, reason.strip(), station_id=station_id, evse_id=evse_id,
                                       connector_id=connector_id, source="api")
    row = next((r for r in await store.all_exclusions() if r["id"] == new_id), None)
    return _local(conn, row) if row is not None else {"id": new_id}


@handler("reports/exclusions/remove")
async def reports_exclusions_remove(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    exclusion_id = arg(msg, "exclusion_id", int)
    store = conn.ctx.store
    row = next((r for r in await store.all_exclusions() if r["id"] == exclusion_id), None)
    if row is None or isinstance(exclusion_id, bool):
        raise ApiError("not_found", f"no exclusion {exclusion_id!r} (reports/exclusions lists them)")
    if row["source"] == "config":
        raise ApiError("rejected", f"exclusion {exclusion_id} is from zaspot.yaml (health.maintenance): "
                                   "remove it there, it comes back at the next start otherwise")
    return {"removed": exclusion_id if await store.remove_exclusion(exclusion_id) else None}
