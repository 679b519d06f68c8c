"""`spot_price`: plan each session's energy into the cheapest slots before it leaves.

A session's need and departure come from the session (ISO 15118 / the operator API) or
the defaults here. The plan is made again every tick from what has been delivered, so a
slot the circuits could not fully serve moves to the next cheapest one. Without prices
for the current time it charges at once: a car that is not charged is worse than a
dear kWh.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from zaspot.ems.allocate import allocate
from zaspot.ems.plan import Planned, plan
from zaspot.ems.strategies.base import fuse_limits
from zaspot.ems.view import Decision, EvseState, Limit, Snapshot, demand


@dataclass
class SpotConfig:
    default_energy_kwh: float = 20.0  # when the session does not say
    default_hours: float = 10.0  # parked this long when the session does not say


class SpotPrice:
    needs: frozenset[str] = frozenset()

    def __init__(self, config: SpotConfig) -> None:
        if config.default_energy_kwh <= 0 or config.default_hours <= 0:
            raise ValueError("default_energy_kwh and default_hours must be > 0")
        self.config = config

    def decide(self, snap: Snapshot) -> Decision:
        wanted, reasons, plans = {}, {}, {}
        priced = any(s.start <= snap.now < s.end for s in snap.prices)
        for e in snap.charging:
            if not priced:
                wanted[e.key], reasons[e.key] = e.spec.max_a, "no price for now: charging"
                continue
            steps = self.plan_for(e, snap)
            plans[f"{e.key[0]}/{e.key[1]}"] = [_row(p) for p in steps]
            wanted[e.key], reasons[e.key] = self._now(e, snap, steps)
        demands = [demand(e, wanted[e.key]) for e in snap.charging if wanted[e.key] > 0]
        amps = allocate(demands, fuse_limits(snap, measured=True))
        limits = {e.key: Limit(amps.get(e.key, 0.0), reasons[e.key]) for e in snap.charging}
        return Decision(limits, notes={"plans": plans})

    def plan_for(self, e: EvseState, snap: Snapshot) -> list[Planned]:
        cfg = self.config
        departure = e.departure or e.since + cfg.default_hours * 3600
        need = (e.wanted_wh if e.wanted_wh is not None else cfg.default_energy_kwh * 1000) - e.energy_wh
        max_w = e.spec.watts(e.spec.max_a, snap.site.voltage)
        return plan(snap.prices, snap.now, departure, need, max_w)

    @staticmethod
    def _now(e: EvseState, snap: Snapshot, steps: list[Planned]) -> tuple[float, str]:
        current = next((p for p in steps if p.start <= snap.now < p.end), None)
        if current is None:
            nxt = steps[0] if steps else None
            why = f"planned from {_hhmm(nxt.start)} at {nxt.slot.price:g}" if nxt else "energy delivered"
            return 0.0, why
        amps = current.power_w / (snap.site.voltage * len(e.spec.phases))
        return min(e.spec.max_a, max(e.spec.min_a, amps)), f"cheap slot ({current.slot.price:g} {current.slot.unit})"


def _row(p: Planned) -> dict[str, float]:
    return {"start": p.start, "end": p.end, "energy_wh": round(p.energy_wh), "price": p.slot.price}


def _hhmm(ts: float) -> str:
    return time.strftime("%H:%M", time.localtime(ts))
