"""The manager's inputs: sensors (with freshness) and the fleet's sessions as EvseStates."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from zaspot.core import events as ev
from zaspot.core.plugins import call_teardown
from zaspot.core.state import FleetState
from zaspot.ems.sensors.base import MeterReading
from zaspot.ems.site import Key, Site
from zaspot.ems.view import Battery, EvseState, Readings

_LOGGER = logging.getLogger(__name__)


@dataclass
class Sensors:
    """Reads every configured sensor each tick; a value older than `stale_after` is None."""

    sensors: dict[str, Any]  # kind -> object with async read()
    stale_after: float
    values: dict[str, tuple[Any, float]] = field(default_factory=dict)  # kind -> (value, when read)
    errors: dict[str, str] = field(default_factory=dict)

    async def read(self, now: float) -> Readings:
        kinds = list(self.sensors)
        results = await asyncio.gather(*(self._one(k) for k in kinds), return_exceptions=True)
        for kind, result in zip(kinds, results):
            if isinstance(result, BaseException):
                if self.errors.get(kind) != str(result):
                    _LOGGER.warning("ems sensor %s: %s", kind, result)
                self.errors[kind] = str(result) or type(result).__name__
            else:
                self.values[kind] = (result, now)
                self.errors.pop(kind, None)
        fresh = {k: v for k, (v, at) in self.values.items() if now - at <= self.stale_after}
        meter: MeterReading | None = fresh.get("site_meter")
        battery: Battery | None = fresh.get("battery")
        return Readings(meter.currents_a if meter else None, meter.power_w if meter else None,
                        fresh.get("pv"), battery)

    async def _one(self, kind: str) -> Any:
        async with asyncio.timeout(self.stale_after):
            return await self.sensors[kind].read()

    async def steer_battery(self, watts: float) -> None:
        battery = self.sensors.get("battery")
        if battery is not None and hasattr(battery, "set_power"):
            await battery.set_power(watts)

    async def close(self) -> None:
        """At stop: each sensor that holds a connection (http_json's HTTP client) lets it go."""
        for kind, sensor in self.sensors.items():
            close = getattr(sensor, "close", None)
            if close is not None:
                try:
                    await call_teardown(close)
                except Exception:  # one sensor's failure never keeps the others open
                    _LOGGER.warning("ems sensor %s: close failed", kind, exc_info=True)


@dataclass(frozen=True, slots=True)
class SessionState(EvseState):
    """A charging session as the spot_price strategy plans it: what it said it needs (in
    EvseState), who said so, "charge now", and its card (for the card's default need)."""

    charge_now: bool = False
    need_source: str | None = None  # "ev", "operator:<user>"
    transaction_id: str | None = None
    id_token: str | None = None
    group: str | None = None


class Sessions:
    """When each session started and its meter then, to know what it has been given; what
    each needs and by when comes from the needs owner (zaspot.pricing.needs)."""

    def __init__(self) -> None:
        self.started: dict[Key, tuple[float, float | None]] = {}  # key -> (time, meter start Wh)

    def on_event(self, e: ev.Event) -> None:
        if isinstance(e, ev.TransactionStarted):
            self.started[e.station_id, e.evse_id] = (e.time, e.meter_start_wh)
        elif isinstance(e, ev.TransactionEnded):
            self.started.pop((e.station_id, e.evse_id), None)

    def states(self, site: Site, fleet: FleetState, owner: Any = None) -> tuple[EvseState, ...]:
        """`owner`: the needs owner (ctx.needs, zaspot.pricing.needs), None when pricing is off."""
        out: list[EvseState] = []
        for key, spec in site.evses.items():
            station = fleet.stations.get(key[0])
            conn = next((c for c in station.connectors.values() if c.evse_id == key[1] and c.transaction_id),
                        None) if station and station.connected else None
            if conn is None:
                out.append(EvseState(spec, False))
                continue
            since, meter_start = self.started.get(key) or (owner and owner.started(key)) or (conn.since, None)
            if meter_start is None and conn.energy_wh is not None:  # 2.0.1: its first reading is its start
                meter_start = conn.energy_wh
                self.started[key] = (since, meter_start)
            drawn = conn.power_w / (site.voltage * len(spec.phases)) if conn.power_w is not None else None
            energy = (conn.energy_wh or 0.0) - meter_start if meter_start is not None and conn.energy_wh else 0.0
            need = owner.of(key) if owner else None
            token, group = owner.card(key) if owner else (None, None)
            out.append(SessionState(
                spec, True, drawn, since, max(0.0, energy), need.energy_wh if need else None,
                need.departure if need else None, need.charge_now if need else False, need.source if need else None,
                conn.transaction_id, token, group))
        return tuple(out)
