"""`pv_surplus`: charge from what the PV would otherwise export.

Modes: `off` (no charging), `now` (as fast as the circuits allow), `minpv` (at least the
minimum, more from surplus), `pv` (surplus only, with start / stop delays). The budget is
what the EVs draw now plus what goes out to the grid, less `export_margin` so the
site keeps exporting a little rather than importing a little.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from zaspot.ems.allocate import allocate
from zaspot.ems.strategies.base import SITE_METER, Hysteresis, UnderDraw, fuse_limits
from zaspot.ems.strategies.surplus import share_budget
from zaspot.ems.view import Decision, Limit, Snapshot, demand


@dataclass
class PvConfig:
    mode: Literal["off", "now", "minpv", "pv"] = "pv"
    start_delay: float = 60.0  # s of enough surplus before an EV starts
    stop_delay: float = 300.0  # s of too little before it stops
    export_margin: float = 200.0  # W kept flowing out


class PvSurplus:
    needs: frozenset[str] = frozenset({SITE_METER})

    def __init__(self, config: PvConfig) -> None:
        if config.start_delay < 0 or config.stop_delay < 0:
            raise ValueError("start_delay and stop_delay must be >= 0")
        self.config = config
        self.hysteresis = Hysteresis(config.start_delay, config.stop_delay)
        self.under = UnderDraw()

    def decide(self, snap: Snapshot) -> Decision:
        mode = self.config.mode
        if mode == "off":
            return Decision({e.key: Limit(0.0, "pv mode off") for e in snap.charging})
        surplus = snap.ev_w() - (snap.readings.grid_w or 0.0) - self.config.export_margin
        if mode == "pv":
            amps = share_budget(snap, surplus, self.hysteresis, self.under)
            why = "pv surplus"
        else:
            fuses = fuse_limits(snap, measured=True)
            if mode == "minpv":
                floor = sum(e.spec.watts(e.spec.min_a, snap.site.voltage) for e in snap.charging)
                fuses = replace(fuses, power_w=max(surplus, floor))
            amps = allocate([demand(e, self.under.max_a(e, snap)) for e in snap.charging], fuses)
            self.under.note(snap, amps)
            why = "min + pv surplus" if mode == "minpv" else "pv mode now"
        limits = {k: Limit(a, why if a else "waiting for pv surplus") for k, a in amps.items()}
        return Decision(limits, notes={"surplus_w": round(surplus), "mode": mode})
