"""Issue #16: whatever the stations answer and whatever the cars draw, the limits in force
never add up past a fuse minus the margin.

Random sites (nested circuits, fractional margins, 1- and 3-phase stations on any phase,
A and W stations) run every strategy through the real Controller and GrantBook for a
simulated stretch of day. Each EVSE is modelled the way zaspot.limits.owner counts it:
it holds what it last accepted (its rating before it accepted anything of ours) or what
is on its way, whichever is more; one send at a time, one follow-up at most. Stations
accept, refuse or stay silent (a timeout after `call_timeout`) at random, some go away for
a while, sensors go stale, and cars draw anything from nothing up to what is in force.

After every tick and every answer, for every circuit and phase:

    sum of what the EVSEs below it have in force  <=  fuse - margin

A station starts with no limit of ours, so it counts at its rating until it accepts one;
where the ratings alone do not fit, the sum starts above the fuse, and then it may only
fall, never rise, until it fits (and once it fits it always does). The same holds for
what they *could* have in force a moment later (what is on its way counted too).

Every grant and every value on the wire is a multiple of 0.1, rounded down; for W stations
the watts sent are never more than the granted amps' worth.

Liveness: with stations that always answer yes, once the inputs stop changing every
EVSE soon has in force what the strategy wants (within the deadband), so the safety is
not bought by granting nothing.

And the under-draw cap (dynamic_load_balancing, active_load_management): a car drawing
3,450 W on a 3-phase station is capped at its draw plus the margin after the grace
period, and its neighbour gets the room, in A and in W.

Stations here also take profiles whose answer is lost (a timeout), and profiles fall to
their tail when a lease runs out: the limit owner counts both. What does not hold yet is
pinned down at the end as a strict xfail (it flips to a failure once fixed): a 1-phase
car on a 3-phase station.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from zaspot.core.rounding import floor_tenth
from zaspot.core.state import FleetState
from zaspot.ems.controller import Controller, safe_limits
from zaspot.ems.grants import GrantBook
from zaspot.ems.inputs import Sessions
from zaspot.ems.prices.base import PriceSlot
from zaspot.ems.site import CircuitEntry, EvseSpec, Key, Site, SiteEntry, StationEntry, build_site
from zaspot.ems.sitesim import Profile, SimBattery
from zaspot.ems.strategies import BUILTIN
from zaspot.ems.view import Battery, EvseState, Readings, Snapshot
from zaspot.limits.owner import RETRY_MAX, EvseLimit
from zaspot.ocpp.charging_profiles import v16_set, v201_set

EPS = 1e-9
CALL_TIMEOUT = 30.0  # ocpp.call_timeout's default
STRATEGIES = sorted(BUILTIN)


# --- the model of the stations, the cars and the site ------------------------------------


@dataclass
class Car:
    arrive: float
    depart: float
    phases: int  # 1 on a 3-phase station: it draws on the station's first phase only
    max_a: float  # its on-board charger
    mode: str  # full | fixed | random | none
    fixed_a: float
    wanted_wh: float | None
    tells_departure: bool
    energy_wh: float = 0.0
    amps: float = 0.0  # per phase it draws on

    def present(self, t: float) -> bool:
        return self.arrive <= t < self.depart


@dataclass
class Send:
    amps: float  # what the owner counts as accepted if the station says yes
    wire: float  # what the profile says, in the station's unit
    at: float  # when the answer comes
    outcome: str  # accepted | rejected | timeout
    sent_at: float = 0.0  # the profile's startSchedule: its lease runs from here


@dataclass
class Evse:
    spec: EvseSpec
    refuse_p: float
    timeout_p: float
    cars: list[Car] = field(default_factory=list)
    away: list[tuple[float, float]] = field(default_factory=list)
    accepted: float | None = None  # the owner's `accepted`: what it counts as in force
    station: float | None = None  # what the station has taken (None: no profile of ours)
    station_sent: float = 0.0  # when that profile was sent: its lease runs out `lease` s later
    intent: float | None = None  # the EMS's intent on the owner
    pending: Send | None = None  # on its way (the owner's `pending`)
    again: bool = False  # one follow-up after the send on its way
    failures: int = 0
    failed_at: float = 0.0
    sends: int = 0
    accepted_at: float = 0.0  # when what it accepted was sent (its lease runs from then)
    unconfirmed: float | None = None  # a send that timed out: the station may have taken it

    @property
    def key(self) -> Key:
        return self.spec.key

    def holding(self, now: float, lease: float, safe: float) -> float:
        """As LimitOwner.holding: what it accepted (its rating before), a timed-out send it
        may have taken, or what is on its way."""
        known = self.accepted if self.accepted is not None else self.spec.max_a
        return max(known, self.unconfirmed or 0.0, self.pending.amps if self.pending else 0.0)

    def car(self, t: float) -> Car | None:
        return next((c for c in self.cars if c.present(t)), None)

    def reachable(self, t: float) -> bool:
        return not any(a <= t < b for a, b in self.away)


class Model:
    """One site, one strategy, the real Controller and GrantBook; stations, cars, sensors modelled."""

    def __init__(self, site: Site, strategy: str, config: dict, rnd: random.Random, *, interval: float,
                 deadband: float, lease: float, start: float, pv_peak_w: float, prices: tuple[PriceSlot, ...],
                 stale_p: float, evses: dict[Key, Evse], physics_s: float = 5.0, lease_tails: bool = False,
                 late_p: float = 0.0) -> None:
        cls, config_type = BUILTIN[strategy]
        self.site, self.name, self.rnd = site, strategy, rnd
        self.safe = safe_limits(site)
        self.controller = Controller(site, cls(config_type(**config)), self.safe)
        self.book = GrantBook(site, deadband, lease)
        self.interval, self.lease, self.stale_p, self.prices = interval, lease, stale_p, prices
        self.profile = Profile(pv_peak_w=pv_peak_w, seed=rnd.randrange(1000))
        self.battery = SimBattery(soc=rnd.uniform(0, 100)) if strategy == "full_ems" else None
        self.evses = evses
        # Beyond what the owner knows (both off in the properties, see the tests at the end):
        self.lease_tails = lease_tails  # a profile not renewed within its lease falls to its tail, the safe limit
        self.late_p = late_p  # a station that did take a profile whose answer never came
        self.now, self.start, self.physics_s = start, start, physics_s
        self.next_tick, self.next_physics = start, start
        self.frozen: float | None = None  # liveness: the world stops changing at this time
        self.capacity = site.capacity()
        self.prev: dict[str, dict[tuple[str, int], float]] = {}
        self.decisions: list[tuple[float, dict[Key, float]]] = []
        self.ticks = self.answers = self.failed = 0

    def in_force(self, e: Evse) -> float:
        """What the EVSE may draw now by the profile it took: its rating if none of ours."""
        if e.station is None:
            return e.spec.max_a
        if self.lease_tails and self.now >= e.station_sent + self.lease:
            return min(self.safe[e.key], e.station)  # the owner's tail: the safe limit, never above the limit
        return e.station

    def could(self, e: Evse) -> float:
        """What it has in force, or what is on its way if the station takes it."""
        return max(self.in_force(e), e.pending.amps if e.pending else 0.0)

    # --- the world -------------------------------------------------------------------

    def day_time(self) -> float:
        return self.frozen if self.frozen is not None else self.now

    def phase_amps(self) -> list[float]:
        """What the cars draw per grid phase (a 1-phase car on its station's first phase)."""
        out = [0.0] * self.site.phases
        for e in self.evses.values():
            car = e.car(self.day_time())
            if car is not None:
                for p in e.spec.phases[:car.phases]:
                    out[p] += car.amps
        return out

    def readings(self) -> Readings:
        t, v, n = self.day_time(), self.site.voltage, self.site.phases
        building = list(self.profile.building_a(t))[:n]
        ev = self.phase_amps()
        battery_w = self.battery.power_w if self.battery else 0.0
        shared = (battery_w - self.profile.pv_w(t)) / (n * v)
        grid = tuple(b + e + shared for b, e in zip(building, ev))
        b = self.battery
        batt = Battery(b.soc, b.power_w, b.capacity_wh, b.max_charge_w, b.max_discharge_w) if b else None
        readings = Readings(grid, sum(grid) * v, self.profile.pv_w(t), batt)
        if self.frozen is None and self.rnd.random() < self.stale_p:  # a sensor is stale: safe limits
            which = self.rnd.choice(["meter", "pv", "battery"])
            readings = Readings(None if which == "meter" else readings.grid_a,
                                None if which == "meter" else readings.grid_w,
                                None if which == "pv" else readings.pv_w,
                                None if which == "battery" else readings.battery)
        return readings

    def snapshot(self) -> Snapshot:
        t, v = self.day_time(), self.site.voltage
        states = []
        for e in self.evses.values():
            car = e.car(t)
            if car is None:
                states.append(EvseState(e.spec, False))
                continue
            power_w = car.amps * v * car.phases  # what the station meters
            drawn = power_w / (v * len(e.spec.phases))  # as zaspot.ems.inputs turns it into A per phase
            states.append(EvseState(e.spec, True, drawn, car.arrive, car.energy_wh, car.wanted_wh,
                                    car.depart if car.tells_departure else None))
        return Snapshot(self.now, self.site, tuple(states), self.readings(), self.prices, self.book.amps())

    def physics(self) -> None:
        dt, v = self.physics_s, self.site.voltage
        for e in self.evses.values():
            car = e.car(self.day_time())
            before = e.car(self.day_time() - dt) if self.frozen is None else car
            if car is not before:
                self.next_tick = min(self.next_tick, self.now)  # a session started or ended: tick at once
            if car is None:
                continue
            allowed = min(self.in_force(e), car.max_a)
            if allowed < e.spec.min_a - EPS or car.mode == "none":
                want = 0.0
            elif self.frozen is not None:
                want = car.fixed_a if car.mode != "full" else allowed
            elif car.mode == "full":
                want = allowed
            elif car.mode == "fixed":
                want = car.fixed_a
            else:
                want = self.rnd.uniform(0, allowed)
            car.amps = max(0.0, min(want, allowed))
            if self.frozen is None:
                car.energy_wh += car.amps * v * car.phases * dt / 3600
        if self.battery is not None and self.frozen is None:
            self.battery.step(dt)

    # --- the limit owner and the station ------------------------------------------------

    def wire(self, e: Evse, amps: float) -> float:
        """What the profile carries (A, or W for a W station), through the owner and the profile builders."""
        spec, v = e.spec, self.site.voltage
        limit = EvseLimit(spec.key, volts=v, phases=len(spec.phases), unit=spec.unit)
        fallback = self.safe[spec.key]
        if spec.unit == "W":
            kw, a, tail = limit.watts(amps) / 1000, None, limit.watts(fallback) / 1000
        else:
            kw, a, tail = None, amps, fallback
        _, v16 = v16_set(spec.evse_id, kw, a, None, fallback=tail, fallback_after_s=self.lease)
        _, v201 = v201_set(spec.evse_id, kw, a, None, fallback=tail, fallback_after_s=self.lease)
        periods = v16["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"]
        assert periods == v201["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"]
        worth = amps * v * len(spec.phases) if spec.unit == "W" else amps
        safe_worth = fallback * v * len(spec.phases) if spec.unit == "W" else fallback
        for value, most in ((periods[0]["limit"], worth), (periods[1]["limit"], safe_worth)):
            assert _tenths(value), (spec.key, value)
            assert value <= most + EPS, (spec.key, spec.unit, amps, value)  # never more than the amps' worth
        return periods[0]["limit"]

    def grant(self, e: Evse, amps: float, renew: bool) -> None:
        """LimitOwner.grant: the intent replaced; a send unless nothing would change (a send on
        its way may change it: the intent goes again after it, as the owner's locked lock says)."""
        old, e.intent = e.intent, floor_tenth(amps)
        if renew or old is None or e.intent != e.accepted or e.failures or e.pending is not None:
            if e.pending is not None:
                e.again = True
            else:
                self.send(e)

    def send(self, e: Evse) -> None:
        assert e.intent is not None
        e.sends += 1
        r = self.rnd.random()
        if not e.reachable(self.now):
            outcome, at = "rejected", self.now  # not connected
        elif r < e.timeout_p:
            outcome, at = "timeout", self.now + CALL_TIMEOUT
        elif r < e.timeout_p + e.refuse_p:
            outcome, at = "rejected", self.now + self.rnd.uniform(0.1, 5)
        else:
            outcome, at = "accepted", self.now + self.rnd.uniform(0.1, 8)
        e.pending = Send(e.intent, self.wire(e, e.intent), at, outcome, self.now)

    def answer(self, e: Evse) -> None:
        s = e.pending
        assert s is not None
        e.pending = None
        if s.outcome == "accepted" and e.reachable(self.now):
            changed = e.accepted != s.amps
            e.accepted, e.station, e.station_sent, e.failures = s.amps, s.amps, s.sent_at, 0
            e.accepted_at, e.unconfirmed = s.sent_at, None
        else:
            if s.outcome == "timeout":  # the owner counts it until a later one is confirmed
                e.unconfirmed = max(e.unconfirmed or 0.0, s.amps)
                if self.rnd.random() < self.late_p:
                    e.station, e.station_sent = s.amps, s.sent_at  # it took it; its answer was lost
            changed = False  # the manager wakes only when a limit is accepted; a refusal is asked again
            e.failures += 1
            e.failed_at = self.now
            self.failed += 1
        self.answers += 1
        if e.again:
            e.again = False
            self.send(e)
        self.check("answer")
        if changed:
            self.next_tick = min(self.next_tick, self.now)  # LimitInForce (accepted, changed) wakes the manager

    def _retry_due(self, e: Evse) -> bool:
        """LimitOwner.retry_due: refused or unanswered, asked again after one interval, then
        twice as long each time, up to RETRY_MAX."""
        return bool(e.failures) and self.now - e.failed_at >= min(RETRY_MAX, self.interval * 2 ** (e.failures - 1))

    # --- the manager's tick ----------------------------------------------------------

    def tick(self) -> None:
        snap = self.snapshot()
        decision = self.controller.step(snap)
        wanted = {k: lim.amps for k, lim in decision.limits.items()}
        self.decisions.append((self.now, wanted))
        holding = {k: e.holding(self.now, self.lease, self.safe[k]) for k, e in self.evses.items()}
        reachable = {k for k, e in self.evses.items() if e.reachable(self.now)}
        again = {k for k in reachable if self._retry_due(self.evses[k])}
        for g in self.book.plan(decision.limits, holding, self.now, reachable, again):
            spec = self.site.evses[g.key]
            assert _tenths(g.amps) and g.amps >= 0, g
            assert g.amps <= floor_tenth(decision.limits[g.key].amps) + EPS, (g, decision.limits[g.key])
            assert g.amps <= spec.max_a + EPS, g
            assert g.key in reachable, g
            self.grant(self.evses[g.key], g.amps, g.renew)
            self.book.sent(g, self.now)
        if decision.battery_w is not None and self.battery is not None:
            self.battery.setpoint_w = decision.battery_w
        self.ticks += 1
        self.next_tick = self.now + self.interval
        self.check("tick")

    # --- the invariant ---------------------------------------------------------------

    def check(self, where: str) -> None:
        for name, counted in (("in force", self.in_force), ("in force or on its way", self.could)):
            load: dict[tuple[str, int], float] = {}
            for e in self.evses.values():
                amps = counted(e)
                for c in e.spec.path:
                    for p in e.spec.phases:
                        load[c, p] = load.get((c, p), 0.0) + amps
            prev = self.prev.setdefault(name, {})
            for (c, p), amps in load.items():
                cap = self.capacity[c][p]
                before = prev.get((c, p), math.inf)
                assert amps <= cap + EPS or amps <= before + EPS, (
                    (f"after a {where} at t={self.now - self.start:.1f}s: {name} on {c} L{p + 1} adds up to "
                     f"{amps:.2f} A > fuse - margin {cap:.2f} A (it was {before:.2f} A)"),
                    {e.key: (self.in_force(e), e.accepted, e.pending, e.intent) for e in self.evses.values()})
                prev[c, p] = amps

    # --- time --------------------------------------------------------------------------

    def run(self, seconds: float) -> None:
        end = self.now + seconds
        while True:
            due = [e for e in self.evses.values() if e.pending is not None]
            t_answer = min((e.pending.at for e in due), default=math.inf)  # type: ignore[union-attr]
            t = min(t_answer, self.next_physics, self.next_tick)
            if t >= end:
                self.now = end
                return
            self.now = t
            if t_answer <= t:
                for e in sorted(due, key=lambda e: (e.pending.at, e.key)):  # type: ignore[union-attr]
                    if e.pending is not None and e.pending.at <= t:
                        self.answer(e)
            elif self.next_physics <= t:
                self.physics()
                self.next_physics = t + self.physics_s
            else:
                self.tick()


def _tenths(value: float) -> bool:
    return abs(value * 10 - round(value * 10)) < 1e-6


# --- what hypothesis draws ------------------------------------------------------------------

CONFIGS = {
    "static": st.fixed_dictionaries({"current": st.one_of(st.none(), st.sampled_from([6.0, 10.0, 16.5, 32.0]))}),
    "dynamic_load_balancing": st.fixed_dictionaries({
        "mode": st.sampled_from(["fair", "priority"]), "building_reserve": st.sampled_from([0.0, 2.5, 12.0]),
        "under_draw_margin": st.sampled_from([2.0, 0.5, 3.3])}),
    "active_load_management": st.fixed_dictionaries({
        "mode": st.sampled_from(["fair", "priority"]), "under_draw_margin": st.sampled_from([2.0, 0.5, 3.3])}),
    "pv_surplus": st.fixed_dictionaries({
        "mode": st.sampled_from(["pv", "now", "minpv", "off"]), "start_delay": st.sampled_from([60.0, 0.0]),
        "stop_delay": st.sampled_from([300.0, 0.0, 60.0]), "export_margin": st.sampled_from([200.0, 0.0])}),
    "full_ems": st.fixed_dictionaries({
        "reserve_soc": st.sampled_from([20.0, 0.0, 60.0]), "battery_for_ev": st.booleans(),
        "ev_grid_w": st.sampled_from([0.0, 2000.0]), "start_delay": st.sampled_from([60.0, 0.0]),
        "stop_delay": st.sampled_from([300.0, 0.0])}),
    "spot_price": st.fixed_dictionaries({
        "default_energy_kwh": st.sampled_from([20.0, 2.0, 60.0]), "default_hours": st.sampled_from([10.0, 1.0])}),
}

margins = st.one_of(st.sampled_from([0.0, 0.5, 1.0, 2.0]), st.floats(0, 2, allow_nan=False))
ratings = st.one_of(st.integers(16, 63).map(float), st.floats(16, 63, allow_nan=False))


@st.composite
def site_entries(draw) -> SiteEntry:
    """1-4 circuits nested 1-3 deep, fuses 16-125 A, 1-8 EVSEs anywhere on them."""
    entry = SiteEntry(main_breaker=draw(st.integers(16, 125)), phases=draw(st.sampled_from([3, 3, 3, 1])),
                      margin=draw(margins))
    depth = draw(st.integers(1, 3))
    nodes: list[tuple[SiteEntry | CircuitEntry, int]] = [(entry, 0)]
    for i in range(draw(st.integers(1, 4))):
        parent, level = draw(st.sampled_from([n for n in nodes if n[1] < depth]))
        circuit = CircuitEntry(f"c{i}", float(draw(st.integers(16, 125))))
        parent.circuits.append(circuit)
        nodes.append((circuit, level + 1))
    total, made = draw(st.integers(1, 8)), 0
    while made < total:
        evses = draw(st.integers(1, min(2, total - made)))
        where = draw(st.sampled_from(nodes))[0]
        where.stations.append(StationEntry(
            f"S{len(_all_stations(entry))}", evses=evses, phases=draw(st.sampled_from([3, 1])),
            phase=draw(st.sampled_from(["L1", "L2", "L3"])), max_current=draw(ratings), min_current=6.0,
            priority=draw(st.sampled_from([0, 0, 1])), unit=draw(st.sampled_from(["A", "W"]))))
        made += evses
    return entry


def _all_stations(entry: SiteEntry) -> list[StationEntry]:
    out, todo = list(entry.stations), list(entry.circuits)
    while todo:
        c = todo.pop()
        out += c.stations
        todo += c.circuits
    return out


@st.composite
def scenarios(draw, strategy: str, answers: bool = True) -> Model:
    """A site, a strategy with its config, stations that answer as drawn, and a day's start."""
    site = build_site(draw(site_entries()))
    config = draw(CONFIGS[strategy])
    seed = draw(st.integers(0, 2**32 - 1))
    rnd = random.Random(seed)  # what the stations answer when, what the cars draw (a seed: cheap to draw)
    interval = draw(st.sampled_from([5.0, 2.0, 10.0]))
    deadband = draw(st.sampled_from([1.0, 0.0, 0.5, 3.0]))
    lease = draw(st.sampled_from([900.0, 60.0, 3600.0])) if answers else 3600.0
    start = draw(st.integers(0, 23)) * 3600.0
    pv_peak_w = draw(st.sampled_from([0.0, 8000.0, 30000.0])) if strategy in ("pv_surplus", "full_ems") else 0.0
    prices: tuple[PriceSlot, ...] = ()
    if strategy == "spot_price" and draw(st.booleans()):
        first = start + draw(st.sampled_from([-3600.0, 0.0, 1800.0]))
        prices = tuple(PriceSlot(first + h * 3600, first + (h + 1) * 3600, round(rnd.uniform(0.05, 0.4), 3))
                       for h in range(36))
    evses = {}
    for key, spec in site.evses.items():
        refuse = draw(st.sampled_from([0.0, 0.2, 0.5, 1.0])) if answers else 0.0
        timeout = draw(st.sampled_from([0.0, 0.1, 0.3])) if answers else 0.0
        evses[key] = Evse(spec, refuse, min(timeout, 1.0 - refuse))
    model = Model(site, strategy, config, rnd, interval=interval, deadband=deadband, lease=lease, start=start,
                  pv_peak_w=pv_peak_w, prices=prices, stale_p=draw(st.sampled_from([0.0, 0.05])) if answers else 0.0,
                  evses=evses, lease_tails=True, late_p=0.5 if answers else 0.0)
    note(f"site: margin {site.margin_a}, phases {site.phases}, circuits "
         f"{[(c.name, c.fuse_a, c.parent) for c in site.circuits.values()]}")
    rows = [(k, e.spec.path[-1], e.spec.phases, e.spec.max_a, e.spec.unit, e.refuse_p, e.timeout_p)
            for k, e in evses.items()]
    note(f"evses (key, circuit, phases, rating, unit, refuse, timeout): {rows}")
    note(f"{strategy} {config}; interval {interval}, deadband {deadband}, lease {lease}, start {start}, seed {seed}")
    return model


def _cars(model: Model, span: float, away: bool) -> None:
    """Sessions on each EVSE over the span; some cars 1-phase on a 3-phase station."""
    rnd, start = model.rnd, model.start
    for e in model.evses.values():
        t = start + rnd.uniform(0, span / 2)
        while t < start + span:
            stay = rnd.uniform(120, span)
            three = len(e.spec.phases) == 3
            e.cars.append(Car(
                t, t + stay, 3 if three and rnd.random() < 0.7 else 1, rnd.choice([6.0, 10.0, 16.0, 32.0, 63.0]),
                rnd.choice(["full", "full", "fixed", "random", "none"]), rnd.uniform(0, 32),
                rnd.choice([None, rnd.uniform(1000, 60000)]), rnd.random() < 0.5))
            t += stay + rnd.uniform(30, span / 2)
        if away and rnd.random() < 0.2:
            a = start + rnd.uniform(0, span)
            e.away.append((a, a + rnd.uniform(10, 600)))


# --- the properties -------------------------------------------------------------------------

SPAN = 1800.0  # s of simulated time per example


@pytest.mark.parametrize("strategy", STRATEGIES)
@settings(max_examples=80, deadline=None, database=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_limits_in_force_fit_every_fuse_whatever_the_stations_answer(strategy, data):
    model = data.draw(scenarios(strategy))
    _cars(model, SPAN, away=True)
    ratings = {}
    for e in model.evses.values():
        for c in e.spec.path:
            for p in e.spec.phases:
                ratings[c, p] = ratings.get((c, p), 0.0) + e.spec.max_a
    event("the ratings alone exceed a fuse" if any(a > model.capacity[c][p] + EPS for (c, p), a in ratings.items())
          else "the ratings fit")
    model.run(SPAN)  # checks after every tick and every answer
    event("some limits were refused or unanswered" if model.failed else "every limit was accepted")
    assert model.ticks >= SPAN / model.interval - 1


@pytest.mark.parametrize("strategy", STRATEGIES)
@settings(max_examples=40, deadline=None, database=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_stations_that_say_yes_get_what_the_strategy_wants(strategy, data):
    model = data.draw(scenarios(strategy, answers=False))
    busy = data.draw(st.sampled_from([600.0, 1200.0]))
    _cars(model, busy + 600, away=False)
    model.run(busy)
    model.frozen = model.now  # nothing changes any more: sessions, draws, the building, the sun
    model.run(600.0)
    settled = model.now - 4 * model.interval - 2 * 8.0  # some ticks and two answers
    last_change = max((t for (t, w), (_, w0) in zip(model.decisions[1:], model.decisions) if w != w0),
                      default=model.start)
    if last_change > settled:
        event("skipped: the strategy still moves")
        return
    wanted = model.decisions[-1][1]
    event(f"checked, {sum(1 for a in wanted.values() if a > 0)} EVSEs charging")
    for key, e in model.evses.items():
        want = wanted[key]
        assert e.accepted is not None, key
        assert e.pending is None, (key, e.pending)
        assert e.accepted <= want + EPS, (key, e.accepted, want)
        assert e.accepted >= want - model.book.deadband_a - EPS, (key, e.accepted, want, model.book.deadband_a)


# --- under-draw ------------------------------------------------------------------------------


def _under_draw(strategy: str, unit: str, margin: float, small_phases: int = 3, small_w: float = 3450.0,
                seconds: int = 120) -> list[tuple[float, float | None, float | None]]:
    """SMALL draws `small_w` (on `small_phases` of its 3-phase station) whatever it is given;
    BIG takes all it gets; both on a 32 A fuse. The EMS reads the draw as zaspot does (a
    MeterValues power through the fleet state into Sessions.states); the stations accept
    every profile 1 s after it is sent. A tick every 5 s; returns (t, SMALL, BIG) in force."""
    site = build_site(SiteEntry(main_breaker=63, margin=margin, circuits=[CircuitEntry("garage", 32, stations=[
        StationEntry("SMALL", max_current=32, unit=unit), StationEntry("BIG", max_current=32, unit=unit)])]))
    cls, config_type = BUILTIN[strategy]
    controller = Controller(site, cls(config_type()), safe_limits(site))
    book = GrantBook(site)
    fleet, sessions = FleetState(), Sessions()
    for sid in ("SMALL", "BIG"):
        station = fleet.station(sid)
        station.connected = True
        station.connector(1, 1).transaction_id = f"tx-{sid}"
        sessions.started[sid, 1] = (0.0, 0.0)
    small, big, v = ("SMALL", 1), ("BIG", 1), site.voltage
    in_force: dict[Key, float] = {}  # A per phase the station enforces
    pending: list[tuple[float, Key, float, float]] = []  # answer time, EVSE, amps, the profile's value
    history: list[tuple[float, float | None, float | None]] = []
    for step in range(seconds + 1):
        now = float(step)
        for item in [p for p in pending if p[0] <= now]:
            pending.remove(item)
            _, key, _, wire = item
            in_force[key] = wire / (v * 3) if unit == "W" else wire
        small_cap = in_force.get(small, 32.0) * v * small_phases  # a 1-phase car: the limit on its one phase
        fleet.stations["SMALL"].connector(1, 1).power_w = min(small_w, small_cap)
        fleet.stations["BIG"].connector(1, 1).power_w = in_force.get(big, 32.0) * v * 3
        if step % 5:
            continue
        meter = [fleet.stations["BIG"].connector(1, 1).power_w / (v * 3)] * 3
        for p in range(small_phases):
            meter[p] += fleet.stations["SMALL"].connector(1, 1).power_w / (v * small_phases)
        snap = Snapshot(now, site, sessions.states(site, fleet), Readings(tuple(meter), sum(meter) * v), (),
                        book.amps())
        decision = controller.step(snap)
        holding = {k: max([in_force.get(k, spec.max_a), *(a for _, kk, a, _ in pending if kk == k)])
                   for k, spec in site.evses.items()}
        for g in book.plan(decision.limits, holding, now):
            book.sent(g, now)
            wire = EvseLimit(g.key, volts=v, phases=3, unit=unit).watts(g.amps) if unit == "W" else g.amps
            pending.append((now + 1, g.key, g.amps, wire))
        history.append((now, in_force.get(small), in_force.get(big)))
    return history



@pytest.mark.parametrize("unit", ["A", "W"])
@pytest.mark.parametrize("strategy", ["dynamic_load_balancing", "active_load_management"])
@pytest.mark.parametrize("margin", [1.0, 0.5])
def test_a_car_drawing_less_is_capped_above_its_draw_and_the_other_gets_the_room(strategy, unit, margin):
    """3,450 W on a 3-phase station is 5 A per phase: after the grace period SMALL is capped at
    5 A + under_draw_margin (2 A) and BIG gets the room it leaves."""
    history = _under_draw(strategy, unit, margin)
    capacity, cap = 32 - margin, 5.0 + 2.0
    grace = 30.0  # UnderDraw.grace_s
    at = next((t for t, s, _ in history if s is not None and s <= cap + 1e-6), None)
    assert at is not None and at <= grace + 15, history  # the grace, a tick or two and the answer
    _, s, b = history[-1]
    assert s is not None and b is not None
    assert cap - 0.1 - 1e-6 <= s <= cap + 1e-6, history
    assert b >= capacity - s - 1.0 - 1e-6, history  # what SMALL left, less the deadband at most
    assert s + b <= capacity + 1e-9


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "inputs.Sessions.states reads drawn_a as power / (V x the station's phases): a 1-phase car drawing "
    "16 A on a 3-phase station reads as 5.3 A per phase, is capped at 7.3 A, then draws 7.3 A, reads 2.4 A, "
    "and ends at its 6 A minimum"))
@pytest.mark.parametrize("strategy", ["dynamic_load_balancing", "active_load_management"])
def test_a_one_phase_car_on_a_three_phase_station_is_not_capped_below_its_draw(strategy):
    history = _under_draw(strategy, "A", 1.0, small_phases=1, small_w=16 * 230.0)
    _, s, _b = history[-1]
    assert s is not None and s >= 15.5 - 1e-6, history  # it draws 16 A on L1; its fair share is 15.5 A


# --- what the limit owner must count for the property to hold in the field ------------------
# The model above counts what LimitOwner.holding counts; these check the real owner does.


class _Store:
    async def commit(self, unit):
        return []


class _Bus:
    def fire(self, event):
        pass


class _Wire:
    """The commands layer: every send waits until the test answers it."""

    def __init__(self) -> None:
        self.sent: list[tuple[dict, object]] = []

    async def send_limit(self, station_id, evse_id, profile, *, source):
        import asyncio

        answer = asyncio.get_running_loop().create_future()
        self.sent.append((profile, answer))
        return await answer

    async def clear_limit(self, station_id, evse_id, *, source):
        from zaspot.ocpp.commands import Outcome

        return Outcome(True, "Accepted")

    def version_of(self, station_id):
        return None  # no read-back


async def _owner_with_wire():
    import asyncio
    from types import SimpleNamespace

    from zaspot.config import load
    from zaspot.limits.owner import LimitOwner

    wire = _Wire()
    owner = LimitOwner(SimpleNamespace(fleet=FleetState(), config=load(None), store=_Store(), bus=_Bus()), wire)

    def grant(amps: float, lease_s: float = 900.0) -> None:
        owner.grant("CP", 1, amps, "share", "ems:test", volts=230.0, phases=3, unit="A", rating_a=32.0,
                    fallback_a=8.0, lease_s=lease_s, renew=False)

    async def answer(i: int, ok: bool = True, reason: str | None = None) -> None:
        from zaspot.ocpp.commands import Outcome

        wire.sent[i][1].set_result(Outcome(ok, "Accepted" if ok else None, reason=reason,
                                           error=None if ok else reason))
        for _ in range(10):
            await asyncio.sleep(0)

    async def settle() -> None:
        for _ in range(10):
            await asyncio.sleep(0)

    return owner, wire, grant, answer, settle


async def test_an_intent_that_goes_back_while_a_send_is_on_its_way_is_sent_after_it():
    owner, wire, grant, answer, settle = await _owner_with_wire()
    grant(31.0)
    await settle()
    await answer(0)
    grant(15.5)  # a second car came
    await settle()
    grant(31.0)  # and left before the station answered
    await settle()
    await answer(1)
    await settle()
    assert owner.evse("CP", 1).accepted == 31.0 or [p for p, _ in wire.sent][-1]["amps"] == 31.0, \
        [p["amps"] for p, _ in wire.sent]


async def test_a_rise_that_timed_out_stays_counted():
    owner, _wire, grant, answer, settle = await _owner_with_wire()
    grant(10.0)
    await settle()
    await answer(0)
    grant(20.0)
    await settle()
    assert owner.holding("CP", 1, 32.0) == 20.0  # on its way
    await answer(1, ok=False, reason="timeout")
    assert owner.holding("CP", 1, 32.0) >= 20.0


async def test_a_lease_that_runs_out_never_raises_what_an_evse_may_draw():
    """A profile's tail (after its lease) is the safe limit or the limit, whichever is lower:
    an EVSE paused at 0 A stays paused if its renewals fail, so its room is never needed."""
    _owner, wire, grant, answer, settle = await _owner_with_wire()
    grant(0.0, lease_s=60.0)
    await settle()
    sent = wire.sent[0][0]
    assert sent["amps"] == 0.0 and sent["fallback"] == 0.0 and sent["fallback_after_s"] == 60.0
    grant(20.0, lease_s=60.0)
    await settle()
    await answer(0)
    await settle()
    assert wire.sent[-1][0]["fallback"] <= 20.0
