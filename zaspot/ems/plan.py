"""Plan charging into the cheapest periods before each session's departure. Pure.

With a fixed maximum power the cheapest schedule of one session fills the cheapest
periods first, each as full as it can take (the problem is a fractional knapsack), so
sorting is optimal. Equal prices go to the earlier period: the car is full sooner at the
same cost.

Several sessions share the site's fuses: `plan_site` plans them one after the other, the
one leaving first first, each into the room every fuse on its path still has in each
period after the sessions planned before it. So two cars on one circuit are not both
planned into the one cheap period the circuit can carry only one of; the later one moves
to the next cheapest period while that still reaches its departure.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from zaspot.ems.prices.base import PriceSlot
from zaspot.ems.site import Key

EPS_WH = 0.5  # less than this is no energy worth planning


@dataclass(frozen=True, slots=True)
class Planned:
    slot: PriceSlot
    energy_wh: float
    start: float  # the part of the slot the session can use
    end: float

    @property
    def power_w(self) -> float:
        return self.energy_wh * 3600 / (self.end - self.start) if self.end > self.start else 0.0


@dataclass(frozen=True, slots=True)
class Request:
    """What one session still needs, by when, and how it draws (per phase, on which fuses)."""

    key: Key
    energy_wh: float
    departure: float
    max_a: float
    phases: tuple[int, ...]
    path: tuple[str, ...]
    min_a: float = 0.0  # less room than this in a period is no use: an EV cannot charge below it


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


def plan_now(slots: list[PriceSlot] | tuple[PriceSlot, ...], now: float, energy_wh: float, max_w: float,
             until: float = math.inf) -> list[Planned]:
    """At full power from now on, period after period until `until`: what charging at once will take."""
    left, out = max(0.0, energy_wh), []
    for s in sorted(slots, key=lambda s: s.start):
        start, end = max(s.start, now), min(s.end, until)
        if end <= start or left <= EPS_WH:
            continue
        energy = min(left, max_w * (end - start) / 3600)
        out.append(Planned(s, energy, start, end))
        left -= energy
    return out


def plan_site(requests: list[Request], slots: list[PriceSlot] | tuple[PriceSlot, ...], now: float,
              capacity: dict[str, tuple[float, ...]], volts: float) -> dict[Key, list[Planned]]:
    """Each session's plan (in time order) within the fuses: amps per phase per circuit in
    `capacity`, shared by every session planned into the same period."""
    periods = [(i, s) for i, s in enumerate(slots) if s.end > now]
    room: dict[tuple[int, str, int], float] = {}  # (period, circuit, phase) -> amps still free
    out: dict[Key, list[Planned]] = {}
    for r in sorted(requests, key=lambda r: (r.departure, str(r.key))):
        parts = sorted(((s.price, max(s.start, now), i, s, min(s.end, r.departure)) for i, s in periods
                        if min(s.end, r.departure) > max(s.start, now)), key=lambda p: (p[0], p[1]))
        left, mine = max(0.0, r.energy_wh), []
        per_amp_w = volts * len(r.phases)
        for _, start, i, slot, end in parts:
            if left <= EPS_WH:
                break
            wires = [(i, c, p) for c in r.path for p in r.phases]
            free = min([r.max_a, *(room.get(w, _fuse(capacity, w)) for w in wires)])
            if free <= 0 or free < r.min_a:
                continue
            energy = min(left, free * per_amp_w * (end - start) / 3600)
            amps = energy * 3600 / ((end - start) * per_amp_w)
            for w in wires:
                room[w] = room.get(w, _fuse(capacity, w)) - amps
            mine.append(Planned(slot, energy, start, end))
            left -= energy
        out[r.key] = sorted(mine, key=lambda p: p.start)
    return out


def _fuse(capacity: dict[str, tuple[float, ...]], wire: tuple[int, str, int]) -> float:
    _, circuit, phase = wire
    phases = capacity.get(circuit)
    return phases[phase] if phases is not None and phase < len(phases) else math.inf


# --- "07:00": a local time of day --------------------------------------------------------

_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def time_of_day(value: object) -> str:
    """"07:00" (or 420, which is how YAML 1.1 reads an unquoted 7:00) as "HH:MM"; ValueError else."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        return f"{value // 60:02d}:{value % 60:02d}"
    match = _HHMM.match(str(value).strip()) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"expected a time of day as HH:MM (e.g. \"07:00\"), got {value!r}")
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def next_at(hhmm: str, after: float) -> float:
    """The first local `hhmm` after `after` (epoch seconds): "07:00" at 22:00 is tomorrow's."""
    hour, minute = (int(part) for part in time_of_day(hhmm).split(":"))
    day = datetime.fromtimestamp(after).date()
    for offset in range(3):  # today, tomorrow, and a day more for a time a DST switch skips
        when = datetime.combine(day + timedelta(days=offset), datetime.min.time()).replace(hour=hour, minute=minute)
        ts = when.timestamp()  # a naive datetime is local time
        if ts > after:
            return ts
    raise ValueError(f"no {hhmm} after {after}")  # not reached
