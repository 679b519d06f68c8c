"""`platform: energy_charts`: day-ahead prices of a bidding zone from Fraunhofer ISE's
Energy-Charts (no registration; CC BY 4.0):

    GET https://api.energy-charts.info/price?bzn=CZ&start=2026-10-25&end=2026-10-26
    {"license_info": "...", "unix_seconds": [1761343200, 1761344100, ...],
     "price": [92.1, 88.4, ...], "unit": "EUR / MWh", "deprecated": false}

Each `unix_seconds` is the start of a period; a period lasts the series' step (15 minutes
since 1 October 2025, an hour before). A `null` price is a period without one (the feed's
fallback). `zone:` is the bidding zone (CZ, DE-LU, AT, SK, PL, HU, ...).
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass
from typing import Annotated, Any

from zaspot.core.http_client import HttpClient
from zaspot.pricing.slot import QUARTER, PriceSlot
from zaspot.pricing.sources.market import check_url, today_and_tomorrow, with_query
from zaspot.ranges import Range

ENERGY_CHARTS_URL = "https://api.energy-charts.info/price"


@dataclass
class EnergyChartsConfig:
    zone: str = "CZ"
    url: str = ENERGY_CHARTS_URL
    timeout: Annotated[float, Range(1, 300)] = 20.0


def _per_kwh(unit: str) -> tuple[str, float]:
    """"EUR / MWh" -> ("EUR", 1000): the currency and what to divide by for per kWh."""
    currency, _, energy = unit.replace(" ", "").partition("/")
    divisor = {"MWH": 1000.0, "KWH": 1.0}.get(energy.upper())
    if not currency or divisor is None:
        raise ValueError(f"Energy-Charts prices are in {unit!r}, not a currency per MWh or kWh")
    return currency.upper(), divisor


def parse(data: Any) -> list[PriceSlot]:
    if not isinstance(data, dict) or not isinstance(data.get("unix_seconds"), list):
        raise ValueError("not Energy-Charts' price answer (no unix_seconds)")
    starts, prices = data["unix_seconds"], data.get("price") or []
    if len(starts) != len(prices):
        raise ValueError(f"Energy-Charts gave {len(starts)} times and {len(prices)} prices")
    currency, divisor = _per_kwh(str(data.get("unit", "EUR / MWh")))
    steps = [b - a for a, b in itertools.pairwise(starts) if b > a]
    step = float(min(steps)) if steps else QUARTER
    return sorted((PriceSlot(float(t), float(t) + step, round(float(p) / divisor, 6), f"{currency}/kWh")
                   for t, p in zip(starts, prices) if p is not None), key=lambda s: s.start)


class EnergyChartsPrices:
    def __init__(self, config: EnergyChartsConfig) -> None:
        check_url(config.url)
        if not config.zone.strip():
            raise ValueError("zone must name a bidding zone, e.g. CZ or DE-LU")
        self.config = config
        self.area = config.zone
        self.name = f"energy_charts:{config.zone}"
        self.clock = time.time  # which day is today (tests set it)
        self.http = HttpClient(config.timeout)

    async def prices(self) -> list[PriceSlot]:
        today, tomorrow = today_and_tomorrow(self.clock())
        url = with_query(self.config.url, bzn=self.config.zone, start=today.isoformat(), end=tomorrow.isoformat())
        text = (await self.http.get(url, accept="application/json")).text()
        try:
            data = json.loads(text)
        except ValueError:
            raise ValueError(f"Energy-Charts answered with something that is not JSON: {text[:60]!r}") from None
        return parse(data)

    async def close(self) -> None:
        await self.http.aclose()
