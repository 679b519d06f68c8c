"""The decision half of the control loop, without I/O: strategy + safety + deadband.

The manager feeds it live snapshots; the site simulator feeds it simulated ones, so the
24-hour tests exercise exactly the code that runs in production.
"""

from __future__ import annotations

from zaspot.core.rounding import floor_tenth
from zaspot.ems.allocate import Limits, allocate
from zaspot.ems.site import GRID, Key, Site
from zaspot.ems.strategies.base import BATTERY, PV, SITE_METER, Strategy
from zaspot.ems.view import Decision, EvseState, Limit, Snapshot, demand


def safe_limits(site: Site, reserve_a: float = 0.0, cap_a: float | None = None) -> dict[Key, float]:
    """What each EVSE may draw when zaspot cannot steer it: every EVSE charging at once
    fits every fuse, with `reserve_a` per phase left at the main breaker for the building."""
    circuits = dict(site.capacity())
    circuits[GRID] = tuple(a - reserve_a for a in circuits[GRID])
    everyone = [demand(EvseState(s, True), min(s.max_a, cap_a if cap_a is not None else s.max_a))
                for s in site.evses.values()]
    return {k: floor_tenth(a) for k, a in allocate(everyone, Limits(circuits, volts=site.voltage)).items()}


def missing(needs: frozenset[str], snap: Snapshot) -> list[str]:
    r = snap.readings
    have = {SITE_METER: r.grid_w is not None and r.grid_a is not None, PV: r.pv_w is not None,
            BATTERY: r.battery is not None}
    return sorted(n for n in needs if not have.get(n, True))


class Controller:
    def __init__(self, site: Site, strategy: Strategy, safe: dict[Key, float]) -> None:
        self.site, self.strategy, self.safe = site, strategy, safe

    def step(self, snap: Snapshot) -> Decision:
        """A limit for every EVSE on the site, with its reason. Never unlimited."""
        lacking = missing(self.strategy.needs, snap)
        if lacking:
            why = f"safe limit: no fresh {', '.join(lacking)} data"
            return Decision({k: Limit(self.safe[k], why) for k in self.site.evses}, notes={"stale": lacking})
        decision = self.strategy.decide(snap)
        limits = {}
        for key, spec in self.site.evses.items():
            given = decision.limits.get(key) or Limit(0.0, "no session")
            limits[key] = Limit(floor_tenth(min(max(given.amps, 0.0), spec.max_a)), given.reason)
        return Decision(limits, decision.battery_w, decision.notes)
