"""`platform: status` — a connector's status: `to`, `from`, `error_code`, per connector, `for`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zaspot.core.events import StatusChanged
from zaspot.rules.triggers.base import Level, event_vars, listen_all, one_or_many

EVENTS = ("status_changed",)


@dataclass
class CONFIG:
    to: Any = None  # a status or a list (Faulted, Unavailable, …)
    from_: Any = None  # written `from:` (see the loader)
    error_code: Any = None
    evse_id: int | None = None
    connector_id: int | None = None


def attach(engine, trigger, config: CONFIG):
    to, before, codes = one_or_many(config.to), one_or_many(config.from_), one_or_many(config.error_code)
    level = Level(trigger)

    def on_status(e: StatusChanged) -> None:
        if config.evse_id is not None and e.evse_id != config.evse_id:
            return
        if config.connector_id is not None and e.connector_id != config.connector_id:
            return
        matches = (to is None or e.status in to) and (codes is None or e.error_code in codes)
        if matches and before is not None and (e.previous or "") not in before:
            matches = level.active((e.station_id, e.evse_id, e.connector_id))  # only a real `from` starts it
        level.update((e.station_id, e.evse_id, e.connector_id), matches, event_vars(e))

    return listen_all(engine, EVENTS, on_status, level.close)
