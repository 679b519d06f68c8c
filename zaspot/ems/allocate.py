"""Share current among EVSEs under every limit at once: pure functions, no I/O.

Each charging EVSE asks for between `min_a` and `max_a` per phase. Limits are linear:
the current on one phase of one circuit (every EVSE below it that draws on that phase
counts 1), and optionally the EVs' total power (each counts volts x its phases).

`allocate()` first admits EVSEs at their minimum (by priority, then who came first),
because an EV offered less than its minimum cannot charge at all; then it raises every
admitted EVSE together ("water-filling"), freezing one when it reaches its maximum or a
limit it shares is full. The result is max-min fair: nobody could get more without
taking from someone who has less. In `priority` mode each priority level is filled
before the next one gets more than its minimum.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

EPS = 1e-6
K = TypeVar("K", bound=Hashable)  # what names an EVSE: (station_id, evse_id) in zaspot


@dataclass(frozen=True, slots=True)
class Demand(Generic[K]):
    key: K
    min_a: float
    max_a: float
    phases: tuple[int, ...]
    path: tuple[str, ...]  # the circuits whose fuses it loads
    priority: int = 0
    order: float = 0.0  # arrival time: earlier is admitted first when not all fit


@dataclass(frozen=True, slots=True)
class Limits:
    circuits: dict[str, tuple[float, ...]]  # amps left per phase, per circuit
    power_w: float | None = None  # the EVs' total power, if something caps it
    volts: float = 230.0


def _uses(d: Demand[K], limits: Limits) -> dict[Hashable, float]:
    """The constraints one EVSE loads, with how much per amp it gets."""
    uses: dict[Hashable, float] = {(c, p): 1.0 for c in d.path if c in limits.circuits for p in d.phases}
    if limits.power_w is not None:
        uses["power"] = limits.volts * len(d.phases)
    return uses


def _room(limits: Limits) -> dict[Hashable, float]:
    room: dict[Hashable, float] = {(c, p): a for c, phases in limits.circuits.items() for p, a in enumerate(phases)}
    if limits.power_w is not None:
        room["power"] = limits.power_w
    return room


def allocate(demands: Iterable[Demand[K]], limits: Limits,
             mode: Literal["fair", "priority"] = "fair") -> dict[K, float]:
    """Amps per phase for each EVSE; 0 for one that does not fit at its minimum."""
    ordered = sorted(demands, key=lambda d: (-d.priority, d.order, str(d.key)))
    room = _room(limits)
    uses = {d.key: _uses(d, limits) for d in ordered}
    given: dict[K, float] = {d.key: 0.0 for d in ordered}
    admitted = []
    for d in ordered:
        if d.max_a + EPS >= d.min_a and all(room[c] + EPS >= d.min_a * k for c, k in uses[d.key].items()):
            for c, k in uses[d.key].items():
                room[c] -= d.min_a * k
            given[d.key] = d.min_a
            admitted.append(d)
    levels = sorted({d.priority for d in admitted}, reverse=True) if mode == "priority" else [None]
    for level in levels:
        group = [d for d in admitted if level is None or d.priority == level]
        _fill(group, uses, room, given)
    return {k: round(max(0.0, a), 2) for k, a in given.items()}


def _fill(group: list[Demand[K]], uses: dict[K, dict[Hashable, float]], room: dict[Hashable, float],
          given: dict[K, float]) -> None:
    """Raise everyone in `group` together until each is at its max or on a full limit."""
    active = [d for d in group if d.max_a - given[d.key] > EPS and _free(uses[d.key], room)]
    while active:
        load: dict[Hashable, float] = {}
        for d in active:
            for c, k in uses[d.key].items():
                load[c] = load.get(c, 0.0) + k
        step = min(min(room[c] / k for c, k in load.items()), min(d.max_a - given[d.key] for d in active))
        for d in active:
            given[d.key] += step
        for c, k in load.items():
            room[c] -= step * k
        active = [d for d in active if d.max_a - given[d.key] > EPS and _free(uses[d.key], room)]


def _free(uses: dict[Hashable, float], room: dict[Hashable, float]) -> bool:
    return all(room[c] > EPS for c in uses)
