"""Operator API: sessions/plan, sessions/charge_now: a session's need and departure (PLAN).

    sessions/plan        {station_id?, evse_id?, transaction_id?, kwh?, by?}  -> the need
    sessions/charge_now  {station_id?, evse_id?, transaction_id?, on: true|false} -> the need

A session is named by its transaction id, or by its station (and EVSE, where the station
has several running). `by` is epoch seconds, ISO 8601, or "HH:MM": the next such local
time. And `priced_plans`, what `ems/plan` shows of each plan: what it is expected to cost.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from zaspot.api.registry import ApiError, arg, handler
from zaspot.ems.plan import next_at, time_of_day
from zaspot.pricing import needs
from zaspot.pricing.needs import Need
from zaspot.store.publish import publish
from zaspot.store.unit import Unit

MAX_KWH = 1000.0


def running_session(ctx: Any, msg: dict[str, Any]) -> tuple[str, int, str]:
    """(station, EVSE, transaction id) of the running session the message names, from the fleet."""
    station_id, evse_id = arg(msg, "station_id", str, None), arg(msg, "evse_id", int, None)
    tx = arg(msg, "transaction_id", (str, int), None)
    tx = None if tx is None else str(tx)
    if station_id is None and tx is None:
        raise ApiError("invalid_format", "name the session: transaction_id, or station_id (and evse_id)")
    found = sorted({(s.station_id, c.evse_id, c.transaction_id) for s in ctx.fleet.stations.values()
                    for c in s.connectors.values() if c.transaction_id and s.station_id == (station_id or s.station_id)
                    and c.evse_id == (evse_id or c.evse_id) and c.transaction_id == (tx or c.transaction_id)})
    what = " ".join(part for part in (f"transaction {tx}" if tx else "", f"on {station_id}" if station_id else "",
                                      f"EVSE {evse_id}" if evse_id else "") if part)
    if not found:
        raise ApiError("not_found", f"no running session {what}")
    if len(found) > 1:
        evses = ", ".join(f"{s} EVSE {e}" for s, e, _ in found)
        raise ApiError("invalid_format", f"{len(found)} sessions run {what} ({evses}): give evse_id or transaction_id")
    return found[0]


def departure(value: Any, now: float) -> float:
    """`by` as epoch seconds, ISO 8601 or "HH:MM" (the next such local time); in the future."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ApiError("invalid_format", "'by' is epoch seconds, ISO 8601 or HH:MM")
    if isinstance(value, str):
        try:
            when = next_at(time_of_day(value), now)
        except ValueError:
            try:
                when = datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
            except ValueError:
                raise ApiError("invalid_format", f"'by' {value!r} is not HH:MM, ISO 8601 or epoch seconds") from None
    else:
        when = float(value)
    if when <= now:
        raise ApiError("invalid_format", f"'by' {value!r} is in the past")
    return when


async def _save(conn: Any, msg: dict[str, Any], energy_wh: float | None, leave: float | None,
                charge_now: bool | None) -> dict[str, Any]:
    station_id, evse_id, tx = running_session(conn.ctx, msg)
    unit = Unit()
    unit.do(needs.save, station_id, evse_id, energy_wh, leave, charge_now, f"operator:{conn.user}", time.time())
    [need] = await publish(conn.ctx.store, conn.ctx.bus, unit)
    if need.transaction_id != tx:  # it ended, or another started, between the two looks
        raise ApiError("not_found", f"the session {tx} on {station_id} EVSE {evse_id} is no longer running")
    return _shown(conn.ctx, need)


def _shown(ctx: Any, need: Need) -> dict[str, Any]:
    out = need.to_dict()
    ems = getattr(ctx, "ems", None)
    out["planned"] = bool(ems is not None and (need.station_id, need.evse_id) in ems.site.evses
                          and getattr(ems.controller.strategy, "plans_by_needs", False))
    return out


@handler("sessions/plan")
async def sessions_plan(conn: Any, msg: dict[str, Any]) -> Any:
    """What a running session needs (kWh in all) and by when; the spot_price plan follows it."""
    kwh, by = arg(msg, "kwh", (int, float), None), msg.get("by")
    if kwh is None and by is None:
        raise ApiError("invalid_format", "give kwh, by or both")
    if kwh is not None and (isinstance(kwh, bool) or not 0 < kwh <= MAX_KWH):
        raise ApiError("invalid_format", f"'kwh' must be above 0 and at most {MAX_KWH:g}")
    leave = departure(by, time.time()) if by is not None else None
    return await _save(conn, msg, None if kwh is None else kwh * 1000.0, leave, None)


@handler("sessions/charge_now")
async def sessions_charge_now(conn: Any, msg: dict[str, Any]) -> Any:
    """Full power for a running session whatever the price (on), or back to its plan (off)."""
    return await _save(conn, msg, None, None, arg(msg, "on", bool, True))


# --- what ems/plan shows -----------------------------------------------------------------


def priced_plans(ctx: Any, plans: dict[str, Any]) -> dict[str, Any]:
    """Each plan with its expected cost: Σ energy x price of its periods, at the tariff's
    driver price where zaspot.pricing is on (`price_basis` "tariff"), else at the spot price."""
    pricing = getattr(ctx, "pricing", None)
    out = {}
    for key, plan in plans.items():
        if not isinstance(plan, dict):  # a strategy of another shape: shown as it is
            out[key] = plan
            continue
        tariff = pricing.tariff_for(plan["station_id"], plan.get("id_token")) if pricing is not None else None
        periods, total = [], 0.0
        for p in plan.get("periods", []):
            price = tariff.driver_price(p["price"]) if tariff is not None else p["price"]
            cost = p["energy_wh"] / 1000 * price
            periods.append({**p, "driver_price": round(price, 4), "cost": round(cost, 4)} if tariff is not None
                           else {**p, "cost": round(cost, 4)})
            total += cost
        unit = next((p.get("unit") for p in plan.get("periods", []) if p.get("unit")), "")
        currency = (getattr(tariff, "currency", "") or getattr(getattr(ctx, "prices", None), "currency", "")
                    or unit.split("/", 1)[0])
        out[key] = {**plan, "periods": periods, "expected_cost": round(total, 2), "currency": currency,
                    "price_basis": "tariff" if tariff is not None else "spot",
                    "tariff": getattr(tariff, "name", None)}
    return out
