"""Charging from a power budget with start / stop hysteresis (pv_surplus, full_ems).

Pass 1 asks which EVSEs the budget could run at their minimum; the hysteresis turns
that wish into on/off only after the start or stop delay. Pass 2 shares the budget
among the EVSEs that are on; one waiting out its stop delay is held at its minimum
(a small import for a bounded time) rather than switched off at once.
"""

from __future__ import annotations

from dataclasses import replace

from zaspot.ems.allocate import Limits, allocate
from zaspot.ems.site import Key
from zaspot.ems.strategies.base import Hysteresis, UnderDraw, fuse_limits
from zaspot.ems.view import Snapshot, demand


def share_budget(snap: Snapshot, budget_w: float, hysteresis: Hysteresis, under: UnderDraw) -> dict[Key, float]:
    fuses = fuse_limits(snap, measured=True)
    charging = snap.charging
    hysteresis.forget({e.key for e in charging})
    maxes = {e.key: under.max_a(e, snap) for e in charging}
    wish = allocate([demand(e, maxes[e.key]) for e in charging], _capped(fuses, budget_w))
    on = [e for e in charging if hysteresis.update(e.key, wish[e.key] > 0, snap.now)]
    held_w = sum(e.spec.watts(e.spec.min_a, snap.site.voltage) for e in on)
    amps = allocate([demand(e, maxes[e.key]) for e in on], _capped(fuses, max(budget_w, held_w)))
    under.note(snap, amps)
    return {e.key: amps.get(e.key, 0.0) for e in charging}


def _capped(fuses: Limits, budget_w: float) -> Limits:
    return replace(fuses, power_w=max(0.0, budget_w))
