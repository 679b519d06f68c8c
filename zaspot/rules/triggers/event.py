"""`platform: event` — any bus event by type, with `data:` fields that must be equal.

`event_type` also matches events a rule fired with `service: fire_event`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from zaspot.core.events import Event
from zaspot.rules.triggers.base import event_vars, listen_all

EVENTS = ("*",)
RULE_EVENT = "rule_event"


@dataclass
class CONFIG:
    event_type: str
    data: dict[str, Any] = field(default_factory=dict)
    station_id: str | None = None


def attach(engine, trigger, config: CONFIG):
    def on_event(e: Event) -> None:
        variables = event_vars(e)
        if e.type == RULE_EVENT:
            if variables.get("name") != config.event_type:
                return
            variables = {**variables.get("data", {}), **variables, "event_type": config.event_type}
        if config.station_id is not None and e.station_id != config.station_id:
            return
        if all(variables.get(k) == v for k, v in config.data.items()):
            trigger.fire(variables)

    types = (config.event_type,) if config.event_type == RULE_EVENT else (config.event_type, RULE_EVENT)
    return listen_all(engine, types, on_event)
