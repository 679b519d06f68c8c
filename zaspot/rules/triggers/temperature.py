"""`platform: temperature` — `location` (connector, cable, body, module, …) `above` / `below`, `for`."""

from __future__ import annotations

from dataclasses import dataclass

from zaspot.core.events import Temperature
from zaspot.rules.triggers.base import Level, event_vars, listen_all

EVENTS = ("temperature",)


@dataclass
class CONFIG:
    location: str | None = None  # any location when not given; case does not matter
    above: float | None = None
    below: float | None = None
    evse_id: int | None = None
    connector_id: int | None = None


def check(config) -> str | None:
    if config.above is None and config.below is None:
        return "temperature: give 'above' or 'below'"
    return None


def attach(engine, trigger, config: CONFIG):
    location = config.location.lower() if config.location else None
    level = Level(trigger)

    def on_temperature(e: Temperature) -> None:
        if location is not None and e.location.lower() != location:
            return
        if config.connector_id is not None and e.connector_id != config.connector_id:
            return
        if config.evse_id is not None and e.evse_id != config.evse_id:
            return
        matches = (config.above is None or e.celsius > config.above) and \
                  (config.below is None or e.celsius < config.below)
        level.update((e.station_id, e.location, e.instance, e.evse_id, e.connector_id), matches, event_vars(e))

    return listen_all(engine, EVENTS, on_temperature, level.close)
