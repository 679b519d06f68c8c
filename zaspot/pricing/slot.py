"""A price period: what a kWh costs from `start` to `end` (epoch seconds), and the source
protocol every price_source platform implements.

Prices are per kWh in `unit` ("CZK/kWh"). A source gives them in its market's currency
("EUR/kWh"; "" = already in the feed's currency) and the feed (zaspot.pricing.feed)
converts them to `pricing.currency`. `fallback` marks a period no source had a price for,
priced at `pricing.fallback_price`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

QUARTER = 900.0  # s: the day-ahead market's period since 1 October 2025
HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class PriceSlot:
    start: float  # epoch seconds
    end: float
    price: float  # per kWh, in `unit`
    unit: str = "EUR/kWh"
    fallback: bool = False  # no source had a price: pricing.fallback_price

    def to_dict(self) -> dict[str, object]:
        return {"start": self.start, "end": self.end, "price": self.price, "unit": self.unit,
                "fallback": self.fallback}


def currency_of(unit: str) -> str:
    """"CZK/kWh" -> "CZK"; "" -> "" (the feed's own currency)."""
    return unit.split("/", 1)[0].strip().upper()


class PriceSource(Protocol):
    async def prices(self) -> list[PriceSlot]:
        """The known slots, oldest first (today and, once published, tomorrow)."""
        ...
