"""A price source gives hourly (or finer) slots; the spot-price strategy plans into them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class PriceSlot:
    start: float  # epoch seconds
    end: float
    price: float  # per kWh, in `unit`
    unit: str = "EUR/kWh"

    def to_dict(self) -> dict[str, object]:
        return {"start": self.start, "end": self.end, "price": self.price, "unit": self.unit}


class PriceSource(Protocol):
    async def prices(self) -> list[PriceSlot]:
        """The known slots, oldest first (today and, once published, tomorrow)."""
        ...
