"""Sensor plugins: `api.register_sensor(kind, platform, factory, ConfigType)`.

`factory(config)` returns an object with `async read()` answering, by kind:

- site_meter: MeterReading (grid power, and current per phase for load management)
- pv: watts produced
- battery: zaspot.ems.view.Battery (and optionally `async set_power(watts)` to steer it)

`read()` raises when it has nothing fresh; the manager then counts the value as missing
and, past `ems.stale_after`, falls back to safe limits. A sensor may also have
`bind(fleet, site)` to see the stations (the simulated meter adds their load).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MeterReading:
    power_w: float  # + import
    currents_a: tuple[float, ...] | None = None  # per phase, + import
