"""`active_load_management`: measure the grid current per phase and cut EV current before
the main breaker is exceeded. Phase-aware: a 1-phase EV on a loaded phase is cut, one on
a free phase is not. Needs the site meter; when its data goes stale the manager falls back
to safe limits. Sub-circuits are balanced as in dynamic_load_balancing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from zaspot.ems.allocate import allocate
from zaspot.ems.strategies.base import SITE_METER, UnderDraw, fuse_limits
from zaspot.ems.view import Decision, Limit, Snapshot, demand


@dataclass
class AlmConfig:
    mode: Literal["fair", "priority"] = "fair"
    under_draw_margin: float = 2.0


class ActiveLoadManagement:
    needs: frozenset[str] = frozenset({SITE_METER})

    def __init__(self, config: AlmConfig) -> None:
        if config.under_draw_margin <= 0:
            raise ValueError("under_draw_margin must be > 0")
        self.config = config
        self.under = UnderDraw(config.under_draw_margin)

    def decide(self, snap: Snapshot) -> Decision:
        limits = fuse_limits(snap, measured=True)
        demands = [demand(e, self.under.max_a(e, snap)) for e in snap.charging]
        amps = allocate(demands, limits, self.config.mode)
        self.under.note(snap, amps)
        headroom = [round(a, 1) for a in limits.circuits["grid"]]
        return Decision(
            {k: Limit(a, "share of grid headroom" if a else "paused: main breaker headroom") for k, a in amps.items()},
            notes={"grid_headroom_a": headroom},
        )
