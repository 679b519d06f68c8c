"""The strategy contract and the pieces strategies share.

A strategy is a class registered by name (`api.register_strategy(name, cls, ConfigType)`),
built once with its decoded config, and asked every tick:

    needs: frozenset[str]               # sensors without which its limits are unsafe
    def decide(self, snap: Snapshot) -> Decision

`decide` is pure but for the strategy's own small memory (hysteresis, under-draw caps).
EVSEs it leaves out of `Decision.limits` are paused (0 A): the manager never leaves an
EVSE unlimited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from zaspot.core.rounding import floor_tenth
from zaspot.ems.allocate import Limits
from zaspot.ems.site import GRID, Key
from zaspot.ems.view import Decision, EvseState, Snapshot

SITE_METER, PV, BATTERY = "site_meter", "pv", "battery"


class Strategy(Protocol):
    needs: frozenset[str]

    def decide(self, snap: Snapshot) -> Decision: ...


def fuse_limits(snap: Snapshot, measured: bool) -> Limits:
    """Circuit fuses; with `measured`, the main breaker less what the building draws per
    phase (grid meter minus the EVs), which is what active load management needs."""
    circuits = dict(snap.site.capacity())
    grid = snap.readings.grid_a
    if measured and grid is not None:
        ev = snap.ev_amps()
        building = [max(0.0, g - e) for g, e in zip(grid, ev)]
        circuits[GRID] = tuple(c - b for c, b in zip(circuits[GRID], building))
    return Limits(circuits, volts=snap.site.voltage)


@dataclass
class UnderDraw:
    """An EV drawing well under its limit (a small on-board charger, a nearly full battery)
    is capped just above what it draws, so its share goes to others. The cap is lifted
    when the EV draws up to it again. `grace` seconds after a raise let the EV ramp up."""

    margin_a: float = 2.0
    grace_s: float = 30.0
    caps: dict[Key, float] = field(default_factory=dict)
    raised_at: dict[Key, float] = field(default_factory=dict)

    def max_a(self, e: EvseState, snap: Snapshot) -> float:
        spec, cap, allowed = e.spec, self.caps.get(e.key), snap.last.get(e.key)
        if e.drawn_a is None or allowed is None:
            return spec.max_a
        settled = snap.now - self.raised_at.get(e.key, -1e18) >= self.grace_s
        if cap is not None and e.drawn_a >= cap - self.margin_a / 2:
            self.caps.pop(e.key)  # it wants more again
        elif settled and e.drawn_a < allowed - self.margin_a:
            self.caps[e.key] = max(spec.min_a, e.drawn_a + self.margin_a)
        return min(spec.max_a, self.caps.get(e.key, spec.max_a))

    def note(self, snap: Snapshot, limits: dict[Key, float]) -> None:
        """Remember raises (for the grace period) and forget EVSEs that stopped."""
        for key, amps in limits.items():
            if floor_tenth(amps) > snap.last.get(key, 0.0) + 1e-6:  # what is granted is rounded down
                self.raised_at[key] = snap.now
        charging = {e.key for e in snap.charging}
        for key in list(self.caps):
            if key not in charging:
                del self.caps[key]


@dataclass
class Hysteresis:
    """On/off per EVSE with delays, so contactors don't chatter: a wish to start must hold
    for `start_s`, a wish to stop for `stop_s`."""

    start_s: float = 60.0
    stop_s: float = 300.0
    on: dict[Key, bool] = field(default_factory=dict)
    since: dict[Key, float] = field(default_factory=dict)

    def update(self, key: Key, want: bool, now: float) -> bool:
        on = self.on.get(key, False)
        if want == on:
            self.since.pop(key, None)
            return on
        started = self.since.setdefault(key, now)
        if now - started >= (self.start_s if want else self.stop_s):
            self.on[key] = want
            self.since.pop(key, None)
        return self.on.get(key, False)

    def forget(self, keep: set[Key]) -> None:
        for table in (self.on, self.since):
            for key in [k for k in table if k not in keep]:
                del table[key]
