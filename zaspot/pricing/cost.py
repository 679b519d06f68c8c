"""What a session costs, from its energy register readings and the price periods. Pure:
the same readings, prices and tariff give the same cost, to the last digit, which is how a
stored cost is checked (recompute()).

The energy between two readings is split over the price periods they span in proportion
to time; each period's energy is priced at that period's driver price (or, for a locked
tariff, at the price of the session's start). A time no price period covers is priced at
the fallback price in 15-minute periods. A register that goes back (a glitch, a swapped
meter) adds nothing until it passes its highest reading again.

Idle time runs from the last reading at which the energy still rose (or from the start,
when it never rose) to the end; past the grace period each whole minute costs the idle
fee. The session fee is for a session that delivered energy. VAT is added to the whole.
"""

from __future__ import annotations

import itertools
import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from zaspot.pricing.tariff import LOCKED, Tariff

QUARTER = 900.0  # s: the periods a time without a price is split into


class NoPrice(ValueError):
    """A time no price period covers, and no fallback price to use."""


@dataclass(frozen=True, slots=True)
class Reading:
    ts: float  # epoch seconds (the station's clock)
    wh: float  # the energy register (Energy.Active.Import.Register)


@dataclass(frozen=True, slots=True)
class _Period:
    start: float
    end: float
    spot: float
    fallback: bool


@dataclass(frozen=True, slots=True)
class _Slot:  # a stored period's price, as recompute() feeds it back
    start: float
    end: float
    price: float
    fallback: bool = False


@dataclass(frozen=True)
class Cost:
    """A session's cost so far (or final). Amounts in `currency`; fees before VAT."""

    tariff: str
    currency: str
    energy_wh: float
    excl_vat: float  # rounded to 0.01
    incl_vat: float
    periods: list[dict[str, Any]] = field(default_factory=list)  # {start, end, energy_wh, spot, price, cost, ...}
    final: bool = False
    vat: float = 0.0
    energy_excl_vat: float = 0.0  # the energy's part, unrounded
    session_fee: float = 0.0
    idle_fee: float = 0.0
    idle_minutes: float = 0.0
    charging_ended_at: float | None = None
    started_at: float | None = None
    until: float | None = None  # what it is counted up to: the last reading, or the end
    locked_spot: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"tariff": self.tariff, "currency": self.currency, "energy_wh": self.energy_wh,
                "excl_vat": self.excl_vat, "incl_vat": self.incl_vat, "final": self.final, "vat": self.vat,
                "session_fee": self.session_fee, "idle_fee": self.idle_fee, "idle_minutes": self.idle_minutes,
                "charging_ended_at": self.charging_ended_at, "started_at": self.started_at, "until": self.until,
                "locked_spot": self.locked_spot, "periods": list(self.periods)}


def session_cost(readings: Iterable[Reading], tariff: Tariff, slots: Sequence[Any], *,
                 fallback_price: float | None = None, locked_spot: float | None = None,
                 until: float | None = None, final: bool = False) -> Cost:
    """The cost of these readings. slots: price periods (start, end, price per kWh before the
    tariff), sorted by start, not overlapping; locked_spot: the spot price a locked tariff
    uses; until: the session's end (default: its last reading), for the idle time."""
    ordered = sorted(readings, key=lambda r: r.ts)
    if tariff.pricing == LOCKED and locked_spot is None:
        raise ValueError(f"tariff {tariff.name!r} is locked: its spot price at the start is needed")
    if not ordered:
        return Cost(tariff.name, tariff.currency, 0.0, 0.0, 0.0, [], final, tariff.vat, until=until,
                    locked_spot=locked_spot)
    first, last = ordered[0].ts, ordered[-1].ts
    until = last if until is None else max(until, last)
    locked = tariff.pricing == LOCKED
    lock = locked_spot if locked else None  # a locked tariff has its spot: checked above
    periods = price_periods(slots, first, last, locked_spot if locked else fallback_price)
    energies, energy_wh, rose_at = _split(ordered, periods)
    rows, energy_excl = [], 0.0
    for period, wh in zip(periods, energies):
        if wh <= 0:
            continue
        spot = period.spot if lock is None else lock
        excl = wh / 1000 * tariff.energy_price(spot)
        energy_excl += excl
        rows.append({"start": period.start, "end": period.end, "energy_wh": round(wh, 3), "spot": spot,
                     "price": round(tariff.driver_price(spot), 6), "cost": round(tariff.with_vat(excl), 6),
                     "cost_excl_vat": round(excl, 6), "fallback": period.fallback and not locked})
    idle_minutes = max(0.0, until - (rose_at if rose_at is not None else first)) / 60
    billable = math.floor(max(0.0, idle_minutes - tariff.idle_grace_minutes) + 1e-9)
    idle_fee = billable * tariff.idle_fee_per_minute
    session_fee = tariff.session_fee if energy_wh > 0 else 0.0
    excl = energy_excl + session_fee + idle_fee
    return Cost(tariff.name, tariff.currency, round(energy_wh, 3), round(excl, 2), round(tariff.with_vat(excl), 2),
                rows, final, tariff.vat, energy_excl, session_fee, idle_fee, round(idle_minutes, 3), rose_at,
                first, until, locked_spot)


def _split(readings: list[Reading], periods: list[_Period]) -> tuple[list[float], float, float | None]:
    """Each period's energy (Wh), the total, and the time of the last reading that rose."""
    ends = [p.end for p in periods]
    energies = [0.0] * len(periods)
    total, highest, rose_at = 0.0, readings[0].wh, None
    for a, b in itertools.pairwise(readings):
        delta = b.wh - highest
        if delta <= 0:
            continue
        highest, total, rose_at = b.wh, total + delta, b.ts
        i = bisect_right(ends, a.ts)  # the first period that ends after a
        if b.ts <= a.ts:  # two readings at one time: all of it in that moment's period
            energies[min(i, len(periods) - 1)] += delta
            continue
        span = b.ts - a.ts
        while i < len(periods) and periods[i].start < b.ts:
            overlap = min(b.ts, periods[i].end) - max(a.ts, periods[i].start)
            if overlap > 0:
                energies[i] += delta * overlap / span
            i += 1
    return energies, total, rose_at


def price_periods(slots: Sequence[Any], start: float, end: float, fallback: float | None) -> list[_Period]:
    """The price periods that cover [start, end) (at least the one holding `start`): the
    slots, and 15-minute periods at the fallback price where no slot is."""
    starts = [s.start for s in slots]
    out: list[_Period] = []
    t = start
    while True:
        period = _period_at(slots, starts, t, fallback)
        out.append(period)
        t = period.end
        if t >= end:
            return out


def _period_at(slots: Sequence[Any], starts: list[float], t: float, fallback: float | None) -> _Period:
    i = bisect_right(starts, t) - 1
    if i >= 0 and slots[i].end > t:
        s = slots[i]
        return _Period(s.start, s.end, s.price, bool(getattr(s, "fallback", False)))
    if fallback is None:
        raise NoPrice(f"no price for {t} and no fallback price")
    grid = math.floor(t / QUARTER) * QUARTER
    after = slots[i + 1].start if i + 1 < len(slots) else math.inf
    before = slots[i].end if i >= 0 else -math.inf
    return _Period(max(grid, before), min(grid + QUARTER, after), fallback, True)


def slots_between(slots: Sequence[Any], starts: Sequence[float], start: float, end: float) -> list[Any]:
    """The sorted slots (with their starts) that overlap [start, end]."""
    lo = max(0, bisect_right(starts, start) - 1)
    hi = bisect_left(starts, end, lo)
    return [s for s in slots[lo:hi + 1] if s.end > start and s.start <= end]


# --- what is stored, and the check that it adds up -------------------------------------


def stored(cost: Cost, readings: Sequence[Reading], terms: dict[str, Any]) -> dict[str, Any]:
    """What a cost is stored with: everything recompute() needs, nothing it may not find."""
    return {**cost.to_dict(), "readings": [[r.ts, r.wh] for r in readings], "terms": terms}


def recompute(saved: dict[str, Any]) -> Cost:
    """The cost again from what was stored (stored()): its readings, the spot prices of its
    periods and its tariff's terms. Equal to the stored cost, or something changed it."""
    tariff = Tariff.from_terms(saved["terms"])
    slots = [_Slot(p["start"], p["end"], p["spot"], p.get("fallback", False)) for p in saved["periods"]]
    readings = [Reading(ts, wh) for ts, wh in saved["readings"]]
    # Where no period was stored no energy flowed: any price gives the same cost there.
    return session_cost(readings, tariff, slots, fallback_price=0.0, locked_spot=saved.get("locked_spot"),
                        until=saved.get("until"), final=bool(saved.get("final")))
