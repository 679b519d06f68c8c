"""What the day-ahead sources share: the market's days (CET/CEST, the clock the European
day-ahead auction runs on; a day has 92, 96 or 100 quarter hours) and their URLs. Each
source fetches through its own zaspot.core.http_client.HttpClient (httpx), closed at stop."""

from __future__ import annotations

import urllib.parse
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MARKET_TZ = ZoneInfo("Europe/Prague")  # CET/CEST: the day-ahead market's days and its noon auction


def day_bounds(day: date, tz: ZoneInfo = MARKET_TZ) -> tuple[float, float]:
    """Epoch seconds of the day's local midnight and the next one (23, 24 or 25 hours apart)."""
    start = datetime.combine(day, time(0), tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tz)
    return start.timestamp(), end.timestamp()


def market_day(ts: float, tz: ZoneInfo = MARKET_TZ) -> date:
    return datetime.fromtimestamp(ts, tz).date()


def today_and_tomorrow(now: float, tz: ZoneInfo = MARKET_TZ) -> tuple[date, date]:
    today = market_day(now, tz)
    return today, today + timedelta(days=1)


def with_query(url: str, **params: str) -> str:
    """`url` with `params` added to (or replacing those in) its query string."""
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    query.update(params)
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query, safe=":.|")))


def check_url(url: str) -> None:
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"url must start with http:// or https://, got {url!r}")

