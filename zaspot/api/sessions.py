"""Operator API: history/sessions, sessions/receipt: session costs and receipts (COST).

    history/sessions {station_id?, id_token?, since?, until?, limit?}   -> CDR rows, newest first
    sessions/receipt {transaction_id, station_id?}                      -> the CDR with its periods

since/until: epoch seconds, an ISO 8601 time (UTC unless it says) or a date (the server's
local midnight); a session is in the range when it started in it.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from typing import Any

from zaspot.api.registry import ApiError, arg, handler, limit_arg
from zaspot.pricing.cdr import cdr_row, receipt


def time_arg(msg: dict[str, Any], key: str) -> float | None:
    value = msg.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                return datetime.combine(date.fromisoformat(text), datetime.min.time()).timestamp()  # local midnight
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
        except ValueError:
            pass
    raise ApiError("invalid_format", f"'{key}' must be epoch seconds, a date (YYYY-MM-DD) or an ISO 8601 time, "
                                     f"not {value!r}")


def _live(ctx: Any, row: dict[str, Any]) -> Any:
    pricing = ctx.pricing
    return None if pricing is None else pricing.cost_of(row["station_id"], row["tx_key"])


@handler("history/sessions")
async def history_sessions(conn: Any, msg: dict[str, Any]) -> Any:
    """Sessions with their costs, named like OCPI's CDR; a running one's cost is the live one."""
    ctx = conn.ctx
    rows = await ctx.store.sessions(arg(msg, "station_id", str, None), arg(msg, "id_token", str, None),
                                    time_arg(msg, "since"), time_arg(msg, "until"), limit_arg(msg))
    now = time.time()
    return [cdr_row(r, _live(ctx, r), now) for r in rows]


@handler("sessions/receipt")
async def sessions_receipt(conn: Any, msg: dict[str, Any]) -> Any:
    """One session's receipt: energy, duration, the cost of each period, fees, tariff, total."""
    tx = arg(msg, "transaction_id", (str, int))
    station_id = arg(msg, "station_id", str, None)
    rows = await conn.ctx.store.session(str(tx), station_id)
    if not rows:
        where = f" at {station_id}" if station_id else ""
        raise ApiError("not_found", f"no transaction {tx}{where}")
    if len(rows) > 1:
        stations = ", ".join(r["station_id"] for r in rows)
        raise ApiError("invalid_format", f"transaction {tx} is on {stations}: say which station (station_id)")
    return receipt(rows[0], _live(conn.ctx, rows[0]), time.time())
