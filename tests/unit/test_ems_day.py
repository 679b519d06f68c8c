"""Each strategy drives the simulated site for 24 simulated hours (no sleeping): the same
Controller and GrantBook the manager runs, EVs that follow their limits 3 s late."""

from __future__ import annotations

import random

from zaspot.ems.controller import Controller, safe_limits
from zaspot.ems.grants import GrantBook
from zaspot.ems.prices.base import PriceSlot
from zaspot.ems.site import CircuitEntry, SiteEntry, StationEntry, build_site
from zaspot.ems.sitesim import DAY, Profile, SimBattery, SimEv, SiteSim, run
from zaspot.ems.strategies import BUILTIN

H = 3600.0


def _site(main_breaker: float = 63.0):
    return build_site(SiteEntry(main_breaker=main_breaker, margin=1.0, circuits=[
        CircuitEntry("garage", 40, stations=[StationEntry("CP-1", evses=2), StationEntry("CP-2", phases=1, phase="L1")]),
        CircuitEntry("carport", 32, stations=[StationEntry("CP-3", priority=1)], circuits=[
            CircuitEntry("wall", 20, stations=[StationEntry("CP-4")])]),
    ]))


def _evs(seed: int = 7) -> list[SimEv]:
    """About two cars per EVSE over the day, some with small on-board chargers."""
    rng, evs = random.Random(seed), []
    for key in [("CP-1", 1), ("CP-1", 2), ("CP-2", 1), ("CP-3", 1), ("CP-4", 1)]:
        t = rng.uniform(0, 3 * H)
        while t < DAY - H:
            stay = rng.uniform(2 * H, 8 * H)
            evs.append(SimEv(key, t, min(DAY, t + stay), rng.uniform(10_000, 40_000), rng.choice([16.0, 32.0])))
            t += stay + rng.uniform(0.5 * H, 3 * H)
    return evs


def _controller(site, name: str, **config):
    cls, config_type = BUILTIN[name]
    return Controller(site, cls(config_type(**config)), safe_limits(site))


def _circuit_amps(site, amps_by_key) -> dict[tuple[str, int], float]:
    """EV current per (circuit, phase) from what each EV draws."""
    load: dict[tuple[str, int], float] = {}
    for key, amps in amps_by_key.items():
        spec = site.evses[key]
        for circuit in spec.path:
            for p in spec.phases:
                load[circuit, p] = load.get((circuit, p), 0.0) + amps
    return load


def test_dynamic_load_balancing_keeps_every_circuit_and_shares_fairly():
    site = _site()
    sim = SiteSim(site, _evs(), Profile())
    trace = run(sim, _controller(site, "dynamic_load_balancing"), GrantBook(site), tick_s=5, step_s=5)
    worst = dict.fromkeys(site.circuits, 0.0)
    unfair = 0.0
    for t, amps in zip(trace.t, trace.ev_amps):
        for (circuit, _), a in _circuit_amps(site, amps).items():
            worst[circuit] = max(worst[circuit], a)
        big = {ev.key for ev in sim.evs if ev.present(t - 5) and ev.max_a == 32 and ev.energy_wh < ev.wanted_wh}
        garage = [a for k, a in amps.items() if k[0] == "CP-1" and k in big and a > 0]
        if len(garage) == 2:  # two cars sharing one station on one fuse, neither at its own limit
            unfair = max(unfair, abs(garage[0] - garage[1]))
    for name, circuit in site.circuits.items():
        assert worst[name] <= circuit.fuse_a, (name, worst[name])
    assert unfair <= 1.0  # the deadband: a rise under 1 A is not sent
    delivered = sum(ev.energy_wh for ev in sim.evs)
    print(f"DLB: peak EV current per circuit {worst}; largest gap between equal cars {unfair:.2f} A; "
          f"{delivered / 1000:.0f} kWh delivered; {trace.sends} profiles sent")


def test_active_load_management_holds_the_main_breaker():
    site = _site(main_breaker=63.0)
    profile = Profile(base_a=8, evening_a=12)
    assert max(max(profile.building_a(t)) for t in range(0, int(DAY), 60)) < 62  # the building alone fits
    sim = SiteSim(site, _evs(), profile, delay_s=3)
    tick = 2.0
    trace = run(sim, _controller(site, "active_load_management"), GrantBook(site), tick_s=tick, step_s=1)
    over, longest, peak = 0.0, 0.0, 0.0
    for grid in trace.grid_a:
        peak = max(peak, *grid)
        over = over + 1 if max(grid) > site.main_breaker_a else 0.0
        longest = max(longest, over)
    # A sudden building load is seen at the next tick and the cars follow 3 s later.
    assert longest <= tick + sim.delay_s + 1
    print(f"ALM: peak grid current {peak:.1f} A vs main breaker {site.main_breaker_a:.0f} A; "
          f"longest excursion {longest:.0f} s (bound {tick + sim.delay_s + 1:.0f} s); {trace.sends} profiles sent")


def test_pv_surplus_imports_almost_nothing_for_the_cars():
    site = build_site(SiteEntry(main_breaker=40, stations=[StationEntry("CP-1", evses=2, phases=1)]))
    profile = Profile(base_a=1.5, evening_a=3, pv_peak_w=9_000, steps=[(0.0, 0.0, 0, 0.0)])
    evs = [SimEv(("CP-1", 1), 7 * H, 19 * H, 40_000), SimEv(("CP-1", 2), 9 * H, 17 * H, 40_000, max_a=16)]
    sim = SiteSim(site, evs, profile)
    trace = run(sim, _controller(site, "pv_surplus", mode="pv"), GrantBook(site), tick_s=10, step_s=5)
    ev_import = ev_wh = 0.0
    for t, grid_w, ev_w in zip(trace.t, trace.grid_w, trace.ev_w):
        without = sum(profile.building_a(t)) * site.voltage - profile.pv_w(t)
        ev_import += (max(0.0, grid_w) - max(0.0, without)) * 5 / 3600
        ev_wh += ev_w * 5 / 3600
    assert ev_wh > 10_000
    assert ev_import < 0.03 * ev_wh
    print(f"PV: {ev_wh / 1000:.1f} kWh into cars, {ev_import / 1000:.2f} kWh of it from the grid "
          f"({100 * ev_import / ev_wh:.1f} %); {trace.sends} profiles sent")


def test_full_ems_keeps_the_battery_reserve():
    site = build_site(SiteEntry(main_breaker=40, stations=[StationEntry("CP-1", evses=2, phases=1)]))
    profile = Profile(base_a=2, evening_a=4, pv_peak_w=10_000, steps=[(0.0, 0.0, 0, 0.0)])
    evs = [SimEv(("CP-1", 1), 10 * H, 22 * H, 30_000), SimEv(("CP-1", 2), 17 * H, DAY, 20_000)]
    battery = SimBattery(capacity_wh=10_000, soc=60)
    sim = SiteSim(site, evs, profile, battery=battery)
    trace = run(sim, _controller(site, "full_ems", reserve_soc=20), GrantBook(site), tick_s=10, step_s=5)
    assert min(trace.soc) >= 20 - 0.5  # one tick of discharge past the reserve at most
    assert max(trace.soc) > 90  # the midday surplus filled it
    assert sum(ev.energy_wh for ev in evs) > 15_000
    imported = sum(max(0.0, w) for w in trace.grid_w) * 5 / 3600
    print(f"Full EMS: battery SoC {min(trace.soc):.1f}-{max(trace.soc):.1f} % (reserve 20 %); "
          f"{sum(ev.energy_wh for ev in evs) / 1000:.1f} kWh into cars; {imported / 1000:.1f} kWh imported")


def _prices(seed: int = 3) -> tuple[PriceSlot, ...]:
    rng = random.Random(seed)
    return tuple(PriceSlot(h * H, (h + 1) * H, round(0.10 + 0.15 * rng.random(), 4)) for h in range(36))


def _optimal_cost(ev: SimEv, prices, max_w: float) -> float:
    """Independently of zaspot's planner: every usable part-hour, cheapest first, at full power."""
    parts = sorted((s.price, max(s.start, ev.arrive), min(s.end, ev.depart)) for s in prices
                   if min(s.end, ev.depart) > max(s.start, ev.arrive))
    left, cost = ev.wanted_wh, 0.0
    for price, start, end in parts:
        wh = min(left, max_w * (end - start) / 3600)
        cost, left = cost + wh / 1000 * price, left - wh
    assert left <= 1e-6
    return cost


def test_spot_price_delivers_by_departure_near_the_optimal_cost():
    site = build_site(SiteEntry(main_breaker=100, stations=[StationEntry("CP-1", evses=3, max_current=16)]))
    evs = [SimEv(("CP-1", 1), 17 * H, 31 * H, 30_000), SimEv(("CP-1", 2), 19.5 * H, 30 * H, 18_000),
           SimEv(("CP-1", 3), 2.25 * H, 14 * H, 25_000)]
    prices = _prices()
    sim = SiteSim(site, evs, Profile(steps=[(0.0, 0.0, 0, 0.0)]))
    cost: dict[tuple, float] = {ev.key: 0.0 for ev in evs}
    book = GrantBook(site)
    controller = _controller(site, "spot_price")
    run_cost = _metered(sim, controller, book, prices, cost, hours=32)
    max_w = 16 * 230 * 3
    for ev in evs:
        best = _optimal_cost(ev, prices, max_w)
        assert ev.energy_wh >= ev.wanted_wh * 0.999, (ev.key, ev.energy_wh)
        assert run_cost[ev.key] <= best * 1.03, (ev.key, run_cost[ev.key], best)
        print(f"spot: {ev.key} {ev.energy_wh / 1000:.1f} kWh by departure for {run_cost[ev.key]:.3f} "
              f"vs optimal {best:.3f} (+{100 * (run_cost[ev.key] / best - 1):.2f} %)")


def _metered(sim, controller, book, prices, cost, hours: float) -> dict:
    """Like sitesim.run, adding what each car's energy cost at the price of its hour."""
    end, next_tick = sim.now + hours * H, sim.now
    while sim.now < end:
        if sim.now >= next_tick:
            decision = controller.step(sim.snapshot(prices, book.amps()))
            changes = book.plan(decision.limits, sim.holding(), sim.now)
            for change in changes:
                book.sent(change, sim.now)
            sim.apply(changes)
            next_tick += 10
        before = {ev.key: ev.energy_wh for ev in sim.evs}
        price = next(s.price for s in prices if s.start <= sim.now < s.end)
        sim.step(5)
        for ev in sim.evs:
            cost[ev.key] += (ev.energy_wh - before[ev.key]) / 1000 * price
    return cost


def test_static_limits_never_change_and_fit_the_worst_case():
    site = _site()
    sim = SiteSim(site, _evs(), Profile())
    book = GrantBook(site, lease_s=1e9)
    trace = run(sim, _controller(site, "static"), book, tick_s=30, step_s=10)
    assert trace.sends == len(site.evses)  # one profile each, at the start
    load = _circuit_amps(site, book.amps())
    for (name, _), amps in load.items():
        assert amps <= site.circuits[name].fuse_a
