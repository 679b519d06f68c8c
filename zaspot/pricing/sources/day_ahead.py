"""`platform: day_ahead`: day-ahead market prices over HTTP, in the aWATTar / Tibber-less
format many markets are mirrored in:

    {"data": [{"start_timestamp": 1714514400000, "end_timestamp": 1714518000000,
               "marketprice": 95.3, "unit": "Eur/MWh"}, ...]}

The default URL is aWATTar's public API (Germany; api.awattar.at for Austria). Prices
per MWh are turned into per kWh, and `markup` / `vat` give what the site really pays.
Fetched at most every `refresh` seconds; the last good answer is kept when a fetch fails.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from zaspot.core.http_client import HttpClient
from zaspot.pricing.slot import PriceSlot

_LOGGER = logging.getLogger(__name__)


@dataclass
class DayAheadConfig:
    url: str = "https://api.awattar.de/v1/marketdata"
    markup: float = 0.0  # per kWh on top (grid fees, taxes)
    vat: float = 0.0  # 0.19 = 19 %
    refresh: float = 3600.0
    timeout: float = 10.0
    unit: str = "EUR/kWh"


def parse(data: dict, config: DayAheadConfig) -> list[PriceSlot]:
    out = []
    for row in data.get("data", []):
        per_kwh = float(row["marketprice"]) / (1000 if "mwh" in str(row.get("unit", "Eur/MWh")).lower() else 1)
        price = round((per_kwh + config.markup) * (1 + config.vat), 5)
        out.append(PriceSlot(row["start_timestamp"] / 1000, row["end_timestamp"] / 1000, price, config.unit))
    return sorted(out, key=lambda s: s.start)


class DayAheadPrices:
    def __init__(self, config: DayAheadConfig) -> None:
        if not config.url.startswith(("http://", "https://")):
            raise ValueError(f"url must start with http:// or https://, got {config.url!r}")
        self.config = config
        self.name = "day_ahead"
        self._slots: list[PriceSlot] = []
        self._fetched = 0.0
        self.http = HttpClient(config.timeout)

    async def prices(self) -> list[PriceSlot]:
        if time.monotonic() - self._fetched >= self.config.refresh or not self._slots:
            try:
                answer = await self.http.get(self.config.url, accept="application/json")
                self._slots = parse(answer.json(), self.config)
                self._fetched = time.monotonic()
            except (OSError, ValueError, KeyError) as exc:
                if not self._slots:
                    raise
                _LOGGER.warning("day-ahead prices: %s; keeping the last ones", exc)
        return self._slots

    async def close(self) -> None:
        await self.http.aclose()
