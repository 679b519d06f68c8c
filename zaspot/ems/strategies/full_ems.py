"""`full_ems`: PV, battery and grid together.

Self-consumption first: PV feeds the building, then the EVs (with the same start / stop
hysteresis as pv_surplus), then the battery. The battery covers the building when PV
falls short and may lift EV charging (`battery_for_ev`), but never below `reserve_soc`.
`ev_grid_w` lets the EVs import a fixed amount on top. The main breaker and every fuse
still apply. The battery setpoint goes out in Decision.battery_w (+ charge, - discharge).
"""

from __future__ import annotations

from dataclasses import dataclass

from zaspot.ems.strategies.base import BATTERY, PV, SITE_METER, Hysteresis, UnderDraw
from zaspot.ems.strategies.surplus import share_budget
from zaspot.ems.view import Decision, Limit, Snapshot


@dataclass
class FullEmsConfig:
    reserve_soc: float = 20.0  # % the battery keeps for the building (and outages)
    battery_for_ev: bool = True  # the battery may lift EV charging above the PV surplus
    ev_grid_w: float = 0.0  # W the EVs may import from the grid on top
    start_delay: float = 60.0
    stop_delay: float = 300.0


class FullEms:
    needs: frozenset[str] = frozenset({SITE_METER, PV, BATTERY})

    def __init__(self, config: FullEmsConfig) -> None:
        if not 0 <= config.reserve_soc <= 100 or config.ev_grid_w < 0:
            raise ValueError("reserve_soc must be 0-100 and ev_grid_w >= 0")
        self.config = config
        self.hysteresis = Hysteresis(config.start_delay, config.stop_delay)
        self.under = UnderDraw()

    def decide(self, snap: Snapshot) -> Decision:
        r, cfg = snap.readings, self.config
        battery = r.battery
        assert battery is not None and r.pv_w is not None and r.grid_w is not None  # `needs` guarantees
        building = r.grid_w + r.pv_w - snap.ev_w() - battery.power_w
        surplus = r.pv_w - building  # what PV leaves after the building
        can_discharge = battery.max_discharge_w if battery.soc > cfg.reserve_soc else 0.0
        lift = max(0.0, can_discharge + min(0.0, surplus)) if cfg.battery_for_ev else 0.0
        amps = share_budget(snap, max(0.0, surplus) + lift + cfg.ev_grid_w, self.hysteresis, self.under)
        ev_w = sum(e.spec.watts(amps[e.key], snap.site.voltage) for e in snap.charging)
        battery_w = self._battery(surplus - ev_w + cfg.ev_grid_w, battery, can_discharge)
        limits = {k: Limit(a, "pv + battery budget" if a else "waiting for pv surplus") for k, a in amps.items()}
        notes: dict[str, object] = {"building_w": round(building), "surplus_w": round(surplus),
                                    "battery_setpoint_w": round(battery_w)}
        return Decision(limits, battery_w=battery_w, notes=notes)

    @staticmethod
    def _battery(balance_w: float, battery, can_discharge: float) -> float:
        """Charge with what is left over; discharge to cover a shortfall, not below the reserve."""
        if balance_w >= 0:
            return min(balance_w, battery.max_charge_w) if battery.soc < 100 else 0.0
        return -min(-balance_w, can_discharge)
