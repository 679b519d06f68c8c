"""The monthly report's figures, computed on demand from the store (nothing is kept).

    {"month": "2026-11", "timezone", "target", "generated_at", "start", "end", "partial",
     "availability": uptime.availability(month), "rolling_12m": the 12 months ending with it,
     "days": uptime.daily(month), "outages": [the month's outages, each with its "minutes"],
     "faults": faults.analytics(month), "temperature": drift.summary(), "exclusions": [...]}

The month is in the health timezone; by default the last complete one. The current month
is the month so far (`partial`, its `end` is `now`); one that has not begun is refused.
Renderers (render_text, render_csv, render_html) print this dict and read nothing else.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from zaspot.health import calendar, drift, uptime
from zaspot.health.faults import analytics

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class ReportError(ValueError):
    """A bad month or time from the user: the message says what is wrong."""


def check_month(month: str) -> str:
    """'2026-11', or ReportError."""
    found = _MONTH.match(month) if isinstance(month, str) else None
    if not found or not 1 <= int(found[2]) <= 12 or int(found[1]) < 1970:
        raise ReportError(f"{month!r} is not a month: YYYY-MM (e.g. 2026-11)")
    return month


def moment(value: Any, zone: ZoneInfo, name: str = "time") -> float:
    """Epoch seconds, or an ISO 8601 date or date-time (in `zone` unless it has an offset)."""
    if isinstance(value, bool):
        raise ReportError(f"{name} {value!r} is not a time")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return float(text)
        except ValueError:
            pass
        try:
            when = (datetime.combine(date.fromisoformat(text), datetime.min.time()) if len(text) == 10
                    else datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00")))
        except ValueError:
            pass
        else:
            return (when if when.tzinfo else when.replace(tzinfo=zone)).timestamp()
    raise ReportError(f"{name} {value!r} is not a time: epoch seconds or ISO 8601 (2026-11-10T08:00)")


def window(start: float, end: float) -> tuple[float, float]:
    if end <= start:
        raise ReportError(f"the start ({iso(start)}) is not before the end ({iso(end)})")
    return start, end


def iso(ts: float, zone: ZoneInfo | None = None) -> str:
    return datetime.fromtimestamp(ts, zone or ZoneInfo("UTC")).isoformat(timespec="minutes")


def with_minutes(outages: list[dict[str, Any]], start: float, end: float) -> list[dict[str, Any]]:
    """Each outage with the minutes of it inside [start, end) (an open one runs to `end`)."""
    out = []
    for row in outages:
        inside = min(row["ended"] if row["ended"] is not None else end, end) - max(row["started"], start)
        out.append({**row, "minutes": round(max(0.0, inside) / 60, 2)})
    return out


async def monthly(store: Any, config: Any, month: str | None, now: float) -> dict[str, Any]:
    """The report of `month` ('2026-11'; None: the last complete month) as of `now`."""
    zone = config.zone
    month = check_month(month) if month is not None else calendar.last_month(now, zone)
    start, end = calendar.month_bounds(month, zone)
    if start > now:
        raise ReportError(f"{month} has not begun yet")
    end, partial = min(end, now), end > now
    rolling_start, rolling_end = calendar.rolling_bounds(month, zone)
    rolling_end = min(rolling_end, now)
    availability = await uptime.availability(store, config, start, end, now=now)
    return {
        "month": month, "timezone": config.timezone, "target": config.target, "generated_at": now,
        "start": start, "end": end, "partial": partial,
        "availability": availability,
        "rolling_12m": await uptime.availability(store, config, rolling_start, rolling_end, now=now),
        "days": await uptime.daily(store, config, start, end, now=now),
        "outages": with_minutes(await store.outages_between(start, end), start, end),
        "faults": await analytics(store, config, start, end, availability),
        "temperature": await drift.summary(store, config),
        "exclusions": await store.exclusions_between(start, end),
    }
