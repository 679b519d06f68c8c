"""A site simulator with accelerated time: building load, PV, battery and EVs that follow
their limits after a delay. Time is a number the caller advances, so a simulated day
runs in a second or two with no sleeping. Used by the tests, the simulated sensors and
the demo.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from zaspot.ems.controller import Controller
from zaspot.ems.grants import Grant, GrantBook
from zaspot.ems.prices.base import PriceSlot
from zaspot.ems.site import Key, Site
from zaspot.ems.view import Battery, EvseState, Readings, Snapshot

DAY = 86_400.0


@dataclass
class SimEv:
    key: Key
    arrive: float
    depart: float
    wanted_wh: float
    max_a: float = 32.0  # the car's own on-board charger, per phase
    energy_wh: float = 0.0
    amps: float = 0.0  # drawing now

    def present(self, t: float) -> bool:
        return self.arrive <= t < self.depart


@dataclass
class SimBattery:
    capacity_wh: float = 10_000.0
    soc: float = 50.0
    max_charge_w: float = 5_000.0
    max_discharge_w: float = 5_000.0
    setpoint_w: float = 0.0  # + charge; follows the EMS blindly, as a real inverter would
    power_w: float = 0.0

    def step(self, dt: float) -> None:
        w = max(-self.max_discharge_w, min(self.max_charge_w, self.setpoint_w))
        if (w > 0 and self.soc >= 100) or (w < 0 and self.soc <= 0):
            w = 0.0
        self.power_w = w
        self.soc = max(0.0, min(100.0, self.soc + w * dt / 3600 / self.capacity_wh * 100))


@dataclass
class Profile:
    """Building load per phase and PV output over a day, seeded and repeatable."""

    base_a: float = 6.0  # per phase, always on
    evening_a: float = 10.0  # extra at the evening peak (19:00)
    pv_peak_w: float = 0.0
    seed: int = 1
    steps: list[tuple[float, float, int, float]] = field(default_factory=list)  # start, end, phase, A
    clouds: list[float] = field(default_factory=list)  # factor per 10 minutes

    def __post_init__(self) -> None:
        rng = random.Random(self.seed)
        if not self.steps:  # ovens, kettles, a heat pump: sudden loads on one phase
            for _ in range(24):
                start = rng.uniform(0, DAY)
                self.steps.append((start, start + rng.uniform(300, 3600), rng.randrange(3), rng.uniform(8, 25)))
        if not self.clouds:
            self.clouds = [rng.uniform(0.5, 1.0) for _ in range(145)]

    def building_a(self, t: float) -> tuple[float, float, float]:
        hour = (t % DAY) / 3600
        shape = self.base_a + self.evening_a * math.exp(-((hour - 19) ** 2) / 4)
        amps = [shape, shape * 0.9, shape * 1.1]
        for start, end, phase, a in self.steps:
            if start <= t % DAY < end:
                amps[phase] += a
        return (amps[0], amps[1], amps[2])

    def pv_w(self, t: float) -> float:
        hour = (t % DAY) / 3600
        if not 6 <= hour <= 20:
            return 0.0
        return self.pv_peak_w * math.sin(math.pi * (hour - 6) / 14) * self.clouds[int((t % DAY) // 600)]


class SiteSim:
    def __init__(self, site: Site, evs: list[SimEv], profile: Profile, battery: SimBattery | None = None,
                 delay_s: float = 3.0, start: float = 0.0) -> None:
        self.site, self.evs, self.profile, self.battery = site, evs, profile, battery
        self.delay_s, self.now = delay_s, start
        self.limits: dict[Key, float] = {}  # what each station enforces now
        self._pending: list[tuple[float, Grant]] = []  # a limit reaches the car after delay_s

    def ev_at(self, key: Key) -> SimEv | None:
        return next((ev for ev in self.evs if ev.key == key and ev.present(self.now)), None)

    def grid_a(self) -> tuple[float, ...]:
        v, amps = self.site.voltage, list(self.profile.building_a(self.now))
        for ev in self.evs:
            for p in self.site.evses[ev.key].phases:
                amps[p] += ev.amps
        shared = ((self.battery.power_w if self.battery else 0.0) - self.profile.pv_w(self.now)) / (3 * v)
        return tuple(a + shared for a in amps)

    def readings(self) -> Readings:
        grid = self.grid_a()
        b = self.battery
        battery = Battery(b.soc, b.power_w, b.capacity_wh, b.max_charge_w, b.max_discharge_w) if b else None
        return Readings(grid, sum(grid) * self.site.voltage, self.profile.pv_w(self.now), battery)

    def snapshot(self, prices: tuple[PriceSlot, ...] = (), last: dict[Key, float] | None = None) -> Snapshot:
        states = []
        for key, spec in self.site.evses.items():
            ev = self.ev_at(key)
            states.append(EvseState(spec, True, ev.amps, ev.arrive, ev.energy_wh, ev.wanted_wh, ev.depart)
                          if ev else EvseState(spec, False))
        return Snapshot(self.now, self.site, tuple(states), self.readings(), prices, last or {})

    def holding(self) -> dict[Key, float]:
        """What each station may draw whatever it is granted next (as the limit owner counts)."""
        out = {k: self.limits.get(k, spec.max_a) for k, spec in self.site.evses.items()}
        for _, g in self._pending:
            out[g.key] = max(out[g.key], g.amps)
        return out

    def apply(self, changes: list[Grant], battery_w: float | None = None) -> None:
        self._pending += [(self.now + self.delay_s, c) for c in changes]
        if battery_w is not None and self.battery is not None:
            self.battery.setpoint_w = battery_w

    def step(self, dt: float) -> None:
        due = [c for t, c in self._pending if t <= self.now]
        self._pending = [(t, c) for t, c in self._pending if t > self.now]
        for c in due:
            self.limits[c.key] = c.amps
        for ev in self.evs:
            spec = self.site.evses[ev.key]
            limit = self.limits.get(ev.key, 0.0)
            full = ev.energy_wh >= ev.wanted_wh
            ok = ev.present(self.now) and not full and limit >= spec.min_a
            ev.amps = min(limit, ev.max_a) if ok else 0.0
            ev.energy_wh += ev.amps * self.site.voltage * len(spec.phases) * dt / 3600
        if self.battery:
            self.battery.step(dt)
        self.now += dt


@dataclass
class Trace:
    """What the day looked like, sampled every step: for assertions and the demo."""

    t: list[float] = field(default_factory=list)
    grid_a: list[tuple[float, ...]] = field(default_factory=list)
    grid_w: list[float] = field(default_factory=list)
    ev_w: list[float] = field(default_factory=list)
    soc: list[float] = field(default_factory=list)
    ev_amps: list[dict[Key, float]] = field(default_factory=list)
    sends: int = 0


def run(sim: SiteSim, controller: Controller, book: GrantBook, hours: float = 24, tick_s: float = 5,
        step_s: float = 1, prices: tuple[PriceSlot, ...] = ()) -> Trace:
    """Drive the controller with simulated time: a tick every `tick_s`, physics every `step_s`."""
    trace, end, next_tick = Trace(), sim.now + hours * 3600, sim.now
    while sim.now < end:
        if sim.now >= next_tick:
            decision = controller.step(sim.snapshot(prices, book.amps()))
            changes = book.plan(decision.limits, sim.holding(), sim.now)
            for change in changes:
                book.sent(change, sim.now)
            sim.apply(changes, decision.battery_w)
            trace.sends += len(changes)
            next_tick += tick_s
        sim.step(step_s)
        reading = sim.readings()
        trace.t.append(sim.now)
        trace.grid_a.append(reading.grid_a or ())
        trace.grid_w.append(reading.grid_w or 0.0)
        trace.ev_w.append(sum(ev.amps * sim.site.voltage * len(sim.site.evses[ev.key].phases) for ev in sim.evs))
        trace.soc.append(sim.battery.soc if sim.battery else 0.0)
        trace.ev_amps.append({ev.key: ev.amps for ev in sim.evs if ev.present(sim.now)})
    return trace
