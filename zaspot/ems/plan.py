"""Plan one session's charging into the cheapest slots before its departure. Pure.

With a fixed maximum power the cheapest schedule fills the cheapest slots first, each
as full as it can take (the problem is a fractional knapsack), so sorting is optimal.
Equal prices go to the earlier slot: the car is full sooner at the same cost.
"""

from __future__ import annotations

from dataclasses import dataclass

from zaspot.ems.prices.base import PriceSlot


@dataclass(frozen=True, slots=True)
class Planned:
    slot: PriceSlot
    energy_wh: float
    start: float  # the part of the slot the session can use
    end: float

    @property
    def power_w(self) -> float:
        return self.energy_wh * 3600 / (self.end - self.start) if self.end > self.start else 0.0


def plan(slots: list[PriceSlot] | tuple[PriceSlot, ...], now: float, departure: float, energy_wh: float,
         max_w: float) -> list[Planned]:
    """Energy per usable slot, cheapest first filled; returned in time order."""
    usable = []
    for s in slots:
        start, end = max(s.start, now), min(s.end, departure)
        if end > start:
            usable.append((s.price, start, s, end))
    usable.sort(key=lambda u: (u[0], u[1]))
    left, out = max(0.0, energy_wh), []
    for _, start, slot, end in usable:
        if left <= 0:
            break
        energy = min(left, max_w * (end - start) / 3600)
        out.append(Planned(slot, energy, start, end))
        left -= energy
    return sorted(out, key=lambda p: p.start)
