"""`platform: simulated`: a site meter, PV and battery from the site simulator's profile,
at `speed` x real time, so `zaspot run` and the demo show a living site without hardware.
The meter adds what the stations report drawing (fleet state) to the building load."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from zaspot.ems.sensors.base import MeterReading
from zaspot.ems.sitesim import DAY, Profile
from zaspot.ems.view import Battery


@dataclass
class SimulatedConfig:
    speed: float = 1.0  # simulated seconds per real second
    pv_peak_w: float = 8000.0
    base_a: float = 6.0
    evening_a: float = 10.0
    seed: int = 1
    soc: float = 50.0  # battery: starting charge, size, power
    capacity_wh: float = 10_000.0
    max_power_w: float = 5000.0


class SimulatedSite:
    """One shared simulated site, read through the three sensor kinds."""

    def __init__(self, config: SimulatedConfig) -> None:
        self.config = config
        self.profile = Profile(config.base_a, config.evening_a, config.pv_peak_w, config.seed)
        self.started = time.time()
        self.soc, self.battery_w, self._at = config.soc, 0.0, self.started
        self.fleet: Any = None
        self.site: Any = None

    def sim_time(self) -> float:
        now = time.time()
        local = now - time.mktime((*time.localtime(now)[:3], 0, 0, 0, 0, 0, -1))  # seconds since midnight
        return (local + (now - self.started) * (self.config.speed - 1)) % DAY

    def ev_amps(self) -> list[float]:
        amps = [0.0, 0.0, 0.0]
        for spec in self.site.evses.values() if self.site and self.fleet else ():
            station = self.fleet.stations.get(spec.station_id)
            connectors = station.connectors.values() if station else ()
            connector = next((c for c in connectors if c.evse_id == spec.evse_id), None)
            for p in spec.phases:
                amps[p] += (connector.power_w or 0.0) / (self.site.voltage * len(spec.phases)) if connector else 0.0
        return amps

    def step_battery(self) -> None:
        now = time.time()
        dt = (now - self._at) * self.config.speed
        self._at = now
        self.soc = max(0.0, min(100.0, self.soc + self.battery_w * dt / 3600 / self.config.capacity_wh * 100))


class _Reader:
    def __init__(self, site: SimulatedSite, kind: str) -> None:
        self.sim, self.kind = site, kind

    def bind(self, fleet: Any, site: Any) -> None:
        self.sim.fleet, self.sim.site = fleet, site

    async def read(self) -> Any:
        sim, t = self.sim, self.sim.sim_time()
        sim.step_battery()
        if self.kind == "pv":
            return sim.profile.pv_w(t)
        if self.kind == "battery":
            c = sim.config
            return Battery(sim.soc, sim.battery_w, c.capacity_wh, c.max_power_w, c.max_power_w)
        shared = (sim.battery_w - sim.profile.pv_w(t)) / (3 * 230.0)
        currents = tuple(b + e + shared for b, e in zip(sim.profile.building_a(t), sim.ev_amps()))
        return MeterReading(sum(currents) * 230.0, currents)

    async def set_power(self, watts: float) -> None:
        limit = self.sim.config.max_power_w
        self.sim.battery_w = max(-limit, min(limit, watts))


def factories() -> dict[str, Any]:
    """One factory per kind; sensors with equal settings share one simulated site, so
    the meter sees what the battery does. One set per running EMS, nothing global."""
    sites: dict[tuple, SimulatedSite] = {}

    def for_kind(kind: str):
        def build(config: SimulatedConfig) -> _Reader:
            key = tuple(sorted(vars(config).items()))
            return _Reader(sites.setdefault(key, SimulatedSite(config)), kind)

        return build

    return {kind: for_kind(kind) for kind in ("site_meter", "pv", "battery")}
