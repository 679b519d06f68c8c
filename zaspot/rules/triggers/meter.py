"""`platform: meter` — a measurand `above` / `below` (W, Wh, V, A, °C, %, Hz), `phase`, `for`."""

from __future__ import annotations

from dataclasses import dataclass

from zaspot.core.events import MeterSample
from zaspot.rules.triggers.base import Level, event_vars, listen_all

EVENTS = ("meter_sample",)


@dataclass
class CONFIG:
    measurand: str = "Power.Active.Import"
    above: float | None = None
    below: float | None = None
    phase: str | None = None
    connector_id: int | None = None


def check(config) -> str | None:
    if config.above is None and config.below is None:
        return "meter: give 'above' or 'below'"
    return None


def attach(engine, trigger, config: CONFIG):
    level = Level(trigger)

    def on_meter(e: MeterSample) -> None:
        if config.connector_id is not None and e.connector_id != config.connector_id:
            return
        for s in e.samples:
            if s.measurand != config.measurand or s.phase != config.phase:
                continue
            matches = (config.above is None or s.value > config.above) and \
                      (config.below is None or s.value < config.below)
            variables = {**event_vars(e), "measurand": s.measurand, "value": s.value, "unit": s.unit}
            variables.pop("samples")
            level.update((e.station_id, e.evse_id, e.connector_id), matches, variables)

    return listen_all(engine, EVENTS, on_meter, level.close)
