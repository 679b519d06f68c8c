"""What a strategy is given each tick (a Snapshot) and what it answers (a Decision).

Both are plain frozen data, so a strategy is a function of its input plus its own small
memory (hysteresis timers, a plan), and tests drive it with simulated time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from zaspot.ems.allocate import Demand
from zaspot.ems.prices.base import PriceSlot
from zaspot.ems.site import EvseSpec, Key, Site


@dataclass(frozen=True, slots=True)
class Battery:
    soc: float  # %
    power_w: float  # + charging, - discharging
    capacity_wh: float = 0.0
    max_charge_w: float = 0.0
    max_discharge_w: float = 0.0


@dataclass(frozen=True, slots=True)
class Readings:
    """Sensor values; None = no sensor, or its data is older than `ems.stale_after`."""

    grid_a: tuple[float, ...] | None = None  # per phase, + import
    grid_w: float | None = None  # + import, - export
    pv_w: float | None = None
    battery: Battery | None = None


@dataclass(frozen=True, slots=True)
class EvseState:
    spec: EvseSpec
    charging: bool  # a session that wants power
    drawn_a: float | None = None  # measured per phase
    since: float = 0.0  # session start
    energy_wh: float = 0.0  # delivered in this session
    wanted_wh: float | None = None  # what the driver asked for
    departure: float | None = None  # when the driver leaves

    @property
    def key(self) -> Key:
        return self.spec.key


@dataclass(frozen=True, slots=True)
class Snapshot:
    now: float
    site: Site
    evses: tuple[EvseState, ...]
    readings: Readings = Readings()
    prices: tuple[PriceSlot, ...] = ()
    last: dict[Key, float] = field(default_factory=dict)  # amps each EVSE was last told

    @property
    def charging(self) -> list[EvseState]:
        return [e for e in self.evses if e.charging]

    def ev_amps(self) -> tuple[float, ...]:
        """What the EVs draw per grid phase (measured, else what they were allowed)."""
        total = [0.0] * self.site.phases
        for e in self.charging:
            amps = e.drawn_a if e.drawn_a is not None else self.last.get(e.key, 0.0)
            for p in e.spec.phases:
                total[p] += amps
        return tuple(total)

    def ev_w(self) -> float:
        return sum(self.ev_amps()) * self.site.voltage


@dataclass(frozen=True, slots=True)
class Limit:
    amps: float  # per phase; 0 = pause
    reason: str  # in words an operator reads: "fair share of garage", "waiting for 14:00 (0.08/kWh)"


@dataclass(frozen=True, slots=True)
class Decision:
    limits: dict[Key, Limit]
    battery_w: float | None = None  # setpoint for a controllable battery, + charging
    notes: dict[str, object] = field(default_factory=dict)  # budget, surplus, plan: shown in ems/state


def demand(e: EvseState, max_a: float | None = None) -> Demand[Key]:
    spec = e.spec
    return Demand(e.key, spec.min_a, spec.max_a if max_a is None else max_a, spec.phases, spec.path,
                  spec.priority, e.since)
