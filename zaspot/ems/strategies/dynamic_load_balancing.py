"""`dynamic_load_balancing`: share what the circuits allow among the EVs that charge.

No meter needed: each circuit's fuse (and the main breaker, less `building_reserve`)
is shared among the active sessions, fairly or by priority, never below an EV's
minimum (an EV that does not fit waits) nor above its station's maximum. Shares move
when sessions start, stop, or draw less than they were given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from zaspot.ems.allocate import allocate
from zaspot.ems.site import GRID
from zaspot.ems.strategies.base import UnderDraw, fuse_limits
from zaspot.ems.view import Decision, Limit, Snapshot, demand


@dataclass
class DlbConfig:
    mode: Literal["fair", "priority"] = "fair"
    building_reserve: float = 0.0  # A per phase kept at the main breaker for the building
    under_draw_margin: float = 2.0  # A above what an under-drawing EV draws


class DynamicLoadBalancing:
    needs: frozenset[str] = frozenset()

    def __init__(self, config: DlbConfig) -> None:
        if config.building_reserve < 0 or config.under_draw_margin <= 0:
            raise ValueError("building_reserve must be >= 0 and under_draw_margin > 0")
        self.config = config
        self.under = UnderDraw(config.under_draw_margin)

    def decide(self, snap: Snapshot) -> Decision:
        limits = fuse_limits(snap, measured=False)
        limits.circuits[GRID] = tuple(a - self.config.building_reserve for a in limits.circuits[GRID])
        demands = [demand(e, self.under.max_a(e, snap)) for e in snap.charging]
        amps = allocate(demands, limits, self.config.mode)
        self.under.note(snap, amps)
        why = "priority share" if self.config.mode == "priority" else "fair share"
        return Decision({k: Limit(a, why if a else "waiting: circuit full") for k, a in amps.items()})
