"""`platform: converter` — a DC power module (AcDcConverter): `variable` Problem, Tripped,
Enabled (`to:` true/false, default true) or Temperature (`above` / `below`); `instance`, `for`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from zaspot.core.events import PowerModule
from zaspot.rules.triggers.base import Level, event_vars, listen_all

EVENTS = ("power_module",)
_FIELDS = {"Problem": "problem", "Tripped": "tripped", "Enabled": "enabled", "Temperature": "celsius"}


@dataclass
class CONFIG:
    variable: Literal["Problem", "Tripped", "Enabled", "Temperature"] = "Tripped"
    to: bool = True
    above: float | None = None
    below: float | None = None
    instance: str | None = None


def check(config) -> str | None:
    if config.variable == "Temperature" and config.above is None and config.below is None:
        return "converter: Temperature needs 'above' or 'below'"
    return None


def attach(engine, trigger, config: CONFIG):
    field = _FIELDS[config.variable]
    level = Level(trigger)

    def on_module(e: PowerModule) -> None:
        if config.instance is not None and str(e.instance) != str(config.instance):
            return
        value = getattr(e, field)
        if value is None:
            return  # this report says nothing about that variable
        if field == "celsius":
            matches = (config.above is None or value > config.above) and (config.below is None or value < config.below)
        else:
            matches = bool(value) is config.to
        level.update((e.station_id, e.instance), matches, {**event_vars(e), "variable": config.variable})

    return listen_all(engine, EVENTS, on_module, level.close)
