"""The decision half of the control loop, without I/O: strategy + safety + deadband.

The manager feeds it live snapshots; the site simulator feeds it simulated ones, so the
24-hour tests exercise exactly the code that runs in production.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from zaspot.ems.allocate import Limits, allocate
from zaspot.ems.site import GRID, Key, Site
from zaspot.ems.strategies.base import BATTERY, PV, SITE_METER, Strategy
from zaspot.ems.view import Decision, Limit, Snapshot, demand
from zaspot.ems.view import EvseState


def safe_limits(site: Site, reserve_a: float = 0.0, cap_a: float | None = None) -> dict[Key, float]:
    """What each EVSE may draw when zaspot cannot steer it: every EVSE charging at once
    fits every fuse, with `reserve_a` per phase left at the main breaker for the building."""
    circuits = dict(site.capacity())
    circuits[GRID] = tuple(a - reserve_a for a in circuits[GRID])
    everyone = [demand(EvseState(s, True), min(s.max_a, cap_a if cap_a is not None else s.max_a))
                for s in site.evses.values()]
    return allocate(everyone, Limits(circuits, volts=site.voltage))


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
            limits[key] = Limit(round(min(max(given.amps, 0.0), spec.max_a), 1), given.reason)
        return Decision(limits, decision.battery_w, decision.notes)


@dataclass(frozen=True, slots=True)
class Change:
    key: Key
    amps: float
    reason: str
    previous: float | None


@dataclass
class LimitBook:
    """What each EVSE was last told, and which new limits are worth sending.

    A decrease is always sent (what a station was told never exceeds what the strategy
    allows, so fuses hold); a rise only when it is `deadband_a` or more, or resumes a
    paused EVSE. A limit is also renewed when half its lease is gone: at the end of its
    lease a limit falls back to the safe one, so a station cut off from zaspot stays
    safe. Decreases go out first."""

    deadband_a: float = 1.0
    lease_s: float = 900.0
    retry_s: float = 60.0  # a station that refused a limit is asked again this much later
    sent: dict[Key, tuple[float, float]] = field(default_factory=dict)  # key -> (amps, when)
    refused_at: dict[Key, float] = field(default_factory=dict)

    def changes(self, limits: dict[Key, Limit], now: float) -> list[Change]:
        out = []
        for key, limit in limits.items():
            if now - self.refused_at.get(key, -1e18) < self.retry_s:
                continue
            prev = self.sent.get(key)
            if prev is None or self._differs(prev[0], limit.amps) or now - prev[1] >= self.lease_s / 2:
                out.append(Change(key, limit.amps, limit.reason, prev[0] if prev else None))
        return sorted(out, key=lambda c: c.amps - (c.previous if c.previous is not None else c.amps))

    def _differs(self, old: float, new: float) -> bool:
        return new < old - 0.05 or (old == 0 and new > 0) or new - old >= self.deadband_a

    def record(self, change: Change, now: float) -> None:
        """Called once the station accepted it; a refused limit is tried again next tick."""
        self.sent[change.key] = (change.amps, now)
        self.refused_at.pop(change.key, None)

    def refused(self, change: Change, now: float) -> None:
        self.refused_at[change.key] = now

    def forget(self, station_id: str) -> None:
        for table in (self.sent, self.refused_at):
            for key in [k for k in table if k[0] == station_id]:
                del table[key]

    def amps(self) -> dict[Key, float]:
        return {k: a for k, (a, _) in self.sent.items()}
