"""`platform: price` — the energy price crosses `above` / `below` (per kWh, the price
source's currency), optionally `for` a while.

Reads `price_updated` events: `{"type": "price_updated", "station_id": "", "price": 0.31,
"area": "DE-LU"}`. The price feed (zaspot.pricing) fires them once a price source is configured; until then this
trigger simply never fires.
"""

from __future__ import annotations

from dataclasses import dataclass

from zaspot.core.events import Event
from zaspot.rules.triggers.base import Level, event_vars, listen_all

EVENTS = ("price_updated",)


@dataclass
class CONFIG:
    above: float | None = None
    below: float | None = None
    area: str | None = None


def check(config) -> str | None:
    if config.above is None and config.below is None:
        return "price: give 'above' or 'below'"
    return None


def attach(engine, trigger, config: CONFIG):
    level = Level(trigger)

    def on_price(e: Event) -> None:
        price = getattr(e, "price", None)
        area = getattr(e, "area", None)
        if not isinstance(price, (int, float)) or (config.area is not None and area != config.area):
            return
        matches = (config.above is None or price > config.above) and (config.below is None or price < config.below)
        level.update((e.station_id, area), matches, event_vars(e))  # site-wide: station_id is ""

    return listen_all(engine, EVENTS, on_price, level.close)
