"""`platform: station` — `event: connected | disconnected | booted | offline`.
`offline` covers a dropped connection and a silent one; with `for: 5m` it fires once
the station has been away that long (coming back resets it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from zaspot.core.events import Event
from zaspot.rules.triggers.base import Level, event_vars, listen_all

EVENTS = ("station_connected", "station_disconnected", "station_offline", "station_online", "station_booted")
_AWAY, _BACK = ("station_disconnected", "station_offline"), ("station_connected", "station_online", "station_booted")


@dataclass
class CONFIG:
    event: Literal["connected", "disconnected", "booted", "offline"] = "offline"


def attach(engine, trigger, config: CONFIG):
    if config.event != "offline":
        wanted = f"station_{config.event}"
        return listen_all(engine, (wanted,), lambda e: trigger.fire(event_vars(e)))
    level = Level(trigger)

    def on_change(e: Event) -> None:
        level.update(e.station_id, e.type in _AWAY, event_vars(e))

    return listen_all(engine, _AWAY + _BACK, on_change, level.close)
