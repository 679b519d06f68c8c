"""Electrical and thermal model of one simulated connector.

Values are driven by simulated time (real time x speed) so a test at speed=100
sees energy rise as fast as a real station would in 100x the time.
"""
from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

AMBIENT_C = 25.0
AC_VOLTAGE = 230.0
PHASES = ("L1", "L2", "L3")


def now_iso() -> str:
    # time.time(), not datetime.now(): a test's virtual clock (an accelerated month) moves it too.
    return datetime.fromtimestamp(time.time(), UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Connector:
    connector_id: int
    kind: str = "ac"                     # "ac" | "dc"
    max_power_w: float = 22_000.0
    energy_wh: float = 0.0               # lifetime register, never goes down
    power_w: float = 0.0
    soc: float = 20.0                    # DC only: the car's state of charge
    limit_w: float | None = None         # from SetChargingProfile
    status: str = "Available"            # OCPP status in the station's own version
    error_code: str = "NoError"
    charging: bool = False
    heat_offset_c: float = 0.0           # scripted by the overheat fault
    rng: random.Random = field(default_factory=random.Random)

    def effective_limit(self, station_limit_w: float | None) -> float:
        cap = self.max_power_w
        for lim in (self.limit_w, station_limit_w):
            if lim is not None:
                cap = min(cap, lim)
        return max(cap, 0.0)

    def step(self, dt_sim_s: float, station_limit_w: float | None = None) -> None:
        """Advance the model by dt simulated seconds."""
        if not self.charging:
            self.power_w = 0.0
            return
        target = self.effective_limit(station_limit_w)
        if self.kind == "dc" and self.soc > 80:   # DC taper above 80 % SoC
            target *= max(0.1, (100 - self.soc) / 20)
        self.power_w = target * self.rng.uniform(0.97, 1.0)
        wh = self.power_w * dt_sim_s / 3600.0
        self.energy_wh += wh
        if self.kind == "dc":
            self.soc = min(100.0, self.soc + wh / 600.0)  # ~60 kWh battery

    @property
    def voltage(self) -> float:
        if self.kind == "dc":
            return 400.0 + 3.0 * self.soc if self.charging else 0.0
        return AC_VOLTAGE + self.rng.uniform(-2, 2)

    def current_per_phase(self) -> float:
        if self.kind == "dc":
            return self.power_w / self.voltage if self.voltage else 0.0
        return self.power_w / (3 * AC_VOLTAGE)

    @property
    def temperature_c(self) -> float:
        load = self.power_w / self.max_power_w if self.max_power_w else 0.0
        return round(AMBIENT_C + 20.0 * load + self.heat_offset_c, 1)

    def start(self, soc: float | None = None) -> None:
        self.charging = True
        if soc is not None:
            self.soc = soc

    def stop(self) -> None:
        self.charging = False
        self.power_w = 0.0


def _sv16(value: float, measurand: str, unit: str, context: str, **extra) -> dict:
    sv = {"value": f"{value:.1f}", "context": context, "measurand": measurand, "unit": unit}
    sv.update(extra)
    return sv


def sampled_values_16(c: Connector, context: str = "Sample.Periodic", body_c: float | None = None) -> list[dict]:
    """1.6 sampled values: strings, units as plain enum, Temperature allowed."""
    out = [
        _sv16(c.energy_wh, "Energy.Active.Import.Register", "Wh", context, location="Outlet"),
        _sv16(c.power_w, "Power.Active.Import", "W", context, location="Outlet"),
    ]
    out += _electrical(c, lambda v, m, u, **kw: _sv16(v, m, u, context, **kw))
    out.append(_sv16(c.temperature_c, "Temperature", "Celsius", context, location="Outlet"))
    if c.kind == "dc":
        out.append(_sv16(c.temperature_c - 3, "Temperature", "Celsius", context, location="Cable"))
    if body_c is not None:
        out.append(_sv16(body_c, "Temperature", "Celsius", context, location="Body"))
    return out


def _sv201(value: float, measurand: str, unit: str, context: str, **extra) -> dict:
    sv = {"value": round(value, 1), "context": context, "measurand": measurand,
          "unitOfMeasure": {"unit": unit}}
    sv.update(extra)
    return sv


def sampled_values_201(c: Connector, context: str = "Sample.Periodic") -> list[dict]:
    """2.0.1 sampled values: numbers, unitOfMeasure object, no Temperature measurand."""
    out = [
        _sv201(c.energy_wh, "Energy.Active.Import.Register", "Wh", context),
        _sv201(c.power_w, "Power.Active.Import", "W", context),
    ]
    return out + _electrical(c, lambda v, m, u, **kw: _sv201(v, m, u, context, **kw))


def _electrical(c: Connector, mk) -> list[dict]:
    amps = c.current_per_phase()
    if c.kind == "dc":
        return [mk(amps, "Current.Import", "A"), mk(c.voltage, "Voltage", "V"),
                mk(c.soc, "SoC", "Percent", location="EV")]
    out = [mk(amps * (1 + c.rng.uniform(-0.02, 0.02)), "Current.Import", "A", phase=p) for p in PHASES]
    out += [mk(c.voltage, "Voltage", "V", phase=f"{p}-N") for p in PHASES]
    return out


def station_body_temperature(connectors: list[Connector]) -> float:
    """Cabinet temperature follows the hottest load, damped."""
    hottest = max((c.temperature_c for c in connectors), default=AMBIENT_C)
    return round(AMBIENT_C + 0.4 * (hottest - AMBIENT_C), 1)


def module_temperature(modules: int, index: int, total_power_w: float, offset_c: float = 0.0) -> float:
    share = total_power_w / max(modules, 1)
    # About +25 °C over a warm cabinet at a full 75 kW share: a healthy module stays well
    # under the 80 °C alarm, so the demo's module alarms come from scripted faults only.
    return round(AMBIENT_C + 10.0 + share / 3000.0 + 2 * math.sin(index) + offset_c, 1)
