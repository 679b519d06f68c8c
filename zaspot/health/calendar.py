"""Months and days in the health timezone: the windows reports and trends are cut into."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def _month_start(year: int, month: int, zone: Any) -> float:
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return datetime(year, month, 1, tzinfo=zone).timestamp()


def _parse_month(month: str) -> tuple[int, int]:
    try:
        moment = datetime.strptime(str(month), "%Y-%m")
    except ValueError:
        raise ValueError(f"{month!r} is not a month (2026-11)") from None
    return moment.year, moment.month


def month_bounds(month: str, zone: Any) -> tuple[float, float]:
    """("2026-11", zone) -> the month's (start, end) as Unix times, in `zone`."""
    year, number = _parse_month(month)
    return _month_start(year, number, zone), _month_start(year, number + 1, zone)


def last_month(now: float, zone: Any) -> str:
    """The last complete month at `now`, as "YYYY-MM"."""
    today = datetime.fromtimestamp(now, zone)
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def rolling_bounds(month: str, zone: Any) -> tuple[float, float]:
    """The 12 months ending with `month` (NEVI's window for a month's figure)."""
    year, number = _parse_month(month)
    return _month_start(year, number - 11, zone), _month_start(year, number + 1, zone)


def day_bounds(start: float, end: float, zone: Any) -> tuple[list[float], list[str]]:
    """[start, each local midnight between, end] and each day's date ("2026-11-01")."""
    if end <= start:
        return [start], []
    bounds, days = [start], []
    day = datetime.fromtimestamp(start, zone).date()
    while True:
        days.append(day.isoformat())
        day = day.fromordinal(day.toordinal() + 1)
        midnight = datetime(day.year, day.month, day.day, tzinfo=zone).timestamp()
        if midnight >= end:
            bounds.append(end)
            return bounds, days
        bounds.append(midnight)


def day_of(ts: float, zone: Any) -> str:
    """The date ("2026-11-01") of a moment in `zone`."""
    return datetime.fromtimestamp(ts, zone).date().isoformat()
