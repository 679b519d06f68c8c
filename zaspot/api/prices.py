"""Operator API: prices/*: the spot prices (FEED).

    prices/list   {since?, until?}  -> [{"start", "end", "price", "unit", "fallback"}]
    prices/now    {station_id?, id_token?} -> {"spot": slot | null, "currency", "driver_price", "tariff"}
    prices/status {} -> the feed's source, how many periods it knows, its last fetch and error
"""

from __future__ import annotations

import time
from typing import Any

from zaspot.api.registry import ApiError, arg, handler
from zaspot.pricing.sources.market import day_bounds, market_day

_NUMBER = (int, float)


def _feed(conn: Any) -> Any:
    feed = getattr(conn.ctx, "prices", None)
    if feed is None:
        raise ApiError("not_configured", "no spot prices (zaspot.yaml has no pricing: section and no ems.prices)")
    return feed


def _time_arg(msg: dict[str, Any], key: str) -> float | None:
    value = arg(msg, key, _NUMBER, None)
    if isinstance(value, bool):
        raise ApiError("invalid_format", f"'{key}' must be epoch seconds")
    return None if value is None else float(value)


@handler("prices/list")
async def prices_list(conn: Any, msg: dict[str, Any]) -> Any:
    """The periods from `since` (default: today's start, market time) to `until` (default:
    the end of the last known one, at least today's end); gaps as fallback periods."""
    feed = _feed(conn)
    now = time.time()
    today_start, today_end = day_bounds(market_day(now))
    since = _time_arg(msg, "since")
    since = today_start if since is None else since
    until = _time_arg(msg, "until")
    if until is None:
        known = feed.slots()
        until = max(today_end, known[-1].end if known else today_end)
    if until < since:
        raise ApiError("invalid_format", "'until' is before 'since'")
    return [slot.to_dict() for slot in feed.periods(since, until)]


@handler("prices/now")
async def prices_now(conn: Any, msg: dict[str, Any]) -> Any:
    """The spot price in force and what a driver pays for it under the tariff that applies
    (the default one, or the station's / card's when given)."""
    feed = _feed(conn)
    spot = feed.price_at(time.time())
    out: dict[str, Any] = {"spot": spot.to_dict() if spot else None, "currency": feed.currency,
                           "driver_price": None, "tariff": None}
    pricing = getattr(conn.ctx, "pricing", None)
    if pricing is not None and spot is not None:
        tariff = pricing.tariff_for(arg(msg, "station_id", str, ""), arg(msg, "id_token", str, None))
        if tariff is not None:
            out["driver_price"], out["tariff"] = tariff.driver_price(spot.price), tariff.name
    return out


@handler("prices/status")
async def prices_status(conn: Any, msg: dict[str, Any]) -> Any:
    return _feed(conn).status()
