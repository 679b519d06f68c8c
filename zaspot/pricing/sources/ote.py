"""`platform: ote`: the Czech market operator's day-ahead results (OTE, "Denní trh"), the
JSON its own chart of a day reads:

    GET https://www.ote-cr.cz/en/short-term-markets/electricity/day-ahead-market/@@chart-data?report_date=2026-03-29
    {"data": {"dataLine": [{"title": "Volume (MWh)", "point": [...]},
                           {"title": "15min price (EUR/MWh)", "point": [{"x": "1", "y": 96.5}, ...]},
                           {"title": "60min price reference (EUR/MWh)", "point": [...]}]},
     "graph": {"title": "Day-Ahead Market Results - 29.03.2026"}}

`x` numbers the day's periods from 1 at local midnight (Europe/Prague): 96 quarter hours,
92 on the spring day and 100 on the autumn one. Days before 1 October 2025 have one
hourly series, "Price (EUR/MWh)". Prices are EUR/MWh; the feed converts them to
`pricing.currency` at the Czech National Bank's rate. Today and tomorrow are asked for;
tomorrow's come out after the noon auction (about 13:00).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from zaspot.core.http_client import HttpClient
from zaspot.pricing.slot import HOUR, QUARTER, PriceSlot
from zaspot.pricing.sources.market import check_url, day_bounds, today_and_tomorrow, with_query
from zaspot.ranges import Range

_LOGGER = logging.getLogger(__name__)

OTE_URL = "https://www.ote-cr.cz/en/short-term-markets/electricity/day-ahead-market/@@chart-data"
_SERIES = {"PT15M": ("15min price",), "PT60M": ("60min price", "price (eur/mwh)")}


@dataclass
class OteConfig:
    url: str = OTE_URL
    resolution: Literal["PT15M", "PT60M"] = "PT15M"  # PT60M: the hourly reference price
    timeout: Annotated[float, Range(1, 300)] = 20.0


def _series(data: Any, resolution: str) -> tuple[str, list[dict[str, Any]]] | None:
    """(title, points) of the price line: the 15-minute one (or the hourly reference), else
    the only price line a day before 1 October 2025 has."""
    lines = data.get("data", {}).get("dataLine") if isinstance(data, dict) else None
    if not isinstance(lines, list):
        raise ValueError("not OTE's day-ahead chart data (no data.dataLine)")
    prices = [(str(line.get("title", "")).lower(), line.get("point") or [])
              for line in lines if "eur/mwh" in str(line.get("title", "")).lower()]
    for wanted in _SERIES[resolution]:
        for title, points in prices:
            if title.startswith(wanted):
                return title, points
    return prices[0] if len(prices) == 1 else None


def parse(data: Any, day: date, resolution: str = "PT15M") -> list[PriceSlot]:
    """One day's answer -> its periods in EUR/kWh; [] when the day is not published yet."""
    series = _series(data, resolution)
    if series is None or not series[1]:
        return []
    title, points = series
    start, end = day_bounds(day)
    step = QUARTER if title.startswith("15min") else HOUR
    periods = round((end - start) / step)
    out = []
    for point in points:
        position = int(point["x"])
        if not 1 <= position <= periods:
            raise ValueError(f"OTE period {position} of {day} is outside the day's {periods} periods")
        if point.get("y") is None:
            continue  # no price: the feed's fallback
        begins = start + (position - 1) * step
        out.append(PriceSlot(begins, begins + step, round(float(point["y"]) / 1000, 6), "EUR/kWh"))
    return sorted(out, key=lambda s: s.start)


class OtePrices:
    area = "CZ"

    def __init__(self, config: OteConfig) -> None:
        check_url(config.url)
        self.config = config
        self.name = "ote" if config.resolution == "PT15M" else "ote:PT60M"
        self.clock = time.time  # which day is today (tests set it)
        self.http = HttpClient(config.timeout)

    async def day(self, day: date) -> list[PriceSlot]:
        url = with_query(self.config.url, report_date=day.isoformat())
        text = (await self.http.get(url, accept="application/json")).text()
        try:
            data = json.loads(text)
        except ValueError:
            raise ValueError(f"OTE answered for {day} with something that is not JSON: {text[:60]!r}") from None
        return parse(data, day, self.config.resolution)

    async def prices(self) -> list[PriceSlot]:
        today, tomorrow = today_and_tomorrow(self.clock())
        slots = await self.day(today)
        try:
            slots += await self.day(tomorrow)
        except (OSError, ValueError) as exc:  # not published yet, or a hiccup: asked again at the next fetch
            _LOGGER.debug("OTE prices for %s: %s", tomorrow, exc)
        return slots

    async def close(self) -> None:
        await self.http.aclose()
