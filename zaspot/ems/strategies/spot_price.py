"""`spot_price`: plan each session's energy into the cheapest periods before it leaves.

A session's need (kWh) and departure come from the session itself (2.0.1
NotifyEVChargingNeeds, the operator's `sessions/plan`: zaspot.pricing.needs, the latest
of each wins), else from the card's default here (`cards:`, then `card_groups:`), else
from `default_energy_kwh` / `default_hours`. Every tick the plan is made again from what
has been delivered and the prices known now (15-minute or hourly periods), so new prices
move it, and energy a period could not deliver moves to the next cheapest one. The
sessions on a site are planned together within the fuses (zaspot.ems.plan.plan_site).

It charges at full power, and says why, when the periods before the departure cannot
deliver the need (or the departure has passed), when the operator asked for "charge now",
and when there is no price for the current time: a car that is not charged is worse than
a dear kWh.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

from zaspot.ems.allocate import allocate
from zaspot.ems.plan import EPS_WH, Planned, Request, next_at, plan_now, plan_site, time_of_day
from zaspot.ems.site import Key
from zaspot.ems.strategies.base import fuse_limits
from zaspot.ems.view import Decision, EvseState, Limit, Snapshot, demand
from zaspot.ranges import Invalid


@dataclass
class CardNeed:
    """A card's (or a card group's) usual need: `{kwh: 30, by: "07:00"}`, either may be left out."""

    kwh: float | None = None
    by: Any = None  # "HH:MM" local: the first such time after the session starts

    def validate(self) -> None:
        if self.kwh is None and self.by is None:
            raise Invalid(None, "give kwh, by or both")
        if self.kwh is not None and not 0 < self.kwh <= 1000:
            raise Invalid("kwh", f"{self.kwh:g} must be above 0 and at most 1000")
        if self.by is not None:
            try:
                self.by = time_of_day(self.by)
            except ValueError as exc:
                raise Invalid("by", str(exc)) from None


@dataclass
class SpotConfig:
    default_energy_kwh: float = 20.0  # when neither the session nor its card says
    default_hours: float = 10.0  # parked this long when neither the session nor its card says
    cards: dict[str, CardNeed] = field(default_factory=dict)  # id token -> its default need
    card_groups: dict[str, CardNeed] = field(default_factory=dict)  # a card's group -> its default need


@dataclass(frozen=True, slots=True)
class Target:
    """What one session is to get, and who said so."""

    energy_wh: float  # in all, this session
    departure: float
    energy_from: str  # "ev", "operator:ops", "card 04A1B2C3", "group FLEET", "default"
    departure_from: str
    charge_now: bool = False

    def left(self, e: EvseState) -> float:
        return max(0.0, self.energy_wh - e.energy_wh)


class SpotPrice:
    needs: frozenset[str] = frozenset()
    plans_by_needs = True  # a 2.0.1 station's NotifyEVChargingNeeds is answered Accepted

    def __init__(self, config: SpotConfig) -> None:
        if config.default_energy_kwh <= 0 or config.default_hours <= 0:
            raise ValueError("default_energy_kwh and default_hours must be > 0")
        self.config = config
        config.cards, config.card_groups = _needs(config.cards), _needs(config.card_groups)
        self.cards = {token.upper(): need for token, need in config.cards.items()}

    def decide(self, snap: Snapshot) -> Decision:
        priced = any(s.start <= snap.now < s.end for s in snap.prices)
        targets = {e.key: self.target(e, snap.now) for e in snap.charging}
        requests = [Request(e.key, targets[e.key].left(e), targets[e.key].departure, e.spec.max_a, e.spec.phases,
                            e.spec.path, e.spec.min_a)
                    for e in snap.charging if priced and not targets[e.key].charge_now]
        plans = plan_site(requests, snap.prices, snap.now, snap.site.capacity(), snap.site.voltage)
        wanted: dict[Key, float] = {}
        reasons: dict[Key, str] = {}
        notes: dict[str, object] = {}
        for e in snap.charging:
            target, steps = targets[e.key], plans.get(e.key, [])
            mode, amps, why = self._now(e, target, steps, snap, priced)
            if mode != "plan":  # what charging at once will take (by the departure, if it is still to come)
                until = target.departure if target.departure > snap.now else math.inf
                steps = plan_now(snap.prices, snap.now, target.left(e), e.spec.watts(e.spec.max_a, snap.site.voltage),
                                 until)
            wanted[e.key], reasons[e.key] = amps, why
            notes[f"{e.key[0]}/{e.key[1]}"] = _note(e, target, steps, mode, why)
        demands = [demand(e, wanted[e.key]) for e in snap.charging if wanted[e.key] > 0]
        shares = allocate(demands, fuse_limits(snap, measured=True))
        limits = {e.key: Limit(shares.get(e.key, 0.0), reasons[e.key]) for e in snap.charging}
        return Decision(limits, notes={"plans": notes})

    def target(self, e: EvseState, now: float) -> Target:
        """The session's own need where it said one, else its card's, its group's, the defaults."""
        cfg, since = self.config, e.since or now
        token, group = getattr(e, "id_token", None), getattr(e, "group", None)
        defaults = [(f"card {token}", self.cards.get(token.upper()) if token else None),
                    (f"group {group}", cfg.card_groups.get(group) if group else None)]

        def default(attr: str) -> tuple[str, Any] | None:
            return next(((name, getattr(need, attr)) for name, need in defaults
                         if need is not None and getattr(need, attr) is not None), None)

        said = getattr(e, "need_source", None) or "session"
        if e.wanted_wh is not None:
            energy, energy_from = e.wanted_wh, said
        elif (card := default("kwh")) is not None:
            energy, energy_from = card[1] * 1000, card[0]
        else:
            energy, energy_from = cfg.default_energy_kwh * 1000, "default"
        if e.departure is not None:
            departure, departure_from = e.departure, said
        elif (card := default("by")) is not None:
            departure, departure_from = next_at(card[1], since), card[0]
        else:
            departure, departure_from = since + cfg.default_hours * 3600, "default"
        return Target(energy, departure, energy_from, departure_from, bool(getattr(e, "charge_now", False)))

    @staticmethod
    def _now(e: EvseState, target: Target, steps: list[Planned], snap: Snapshot,
             priced: bool) -> tuple[str, float, str]:
        """(mode, amps wanted now, why) for one session."""
        left = target.left(e)
        if target.charge_now:
            return "charge_now", e.spec.max_a, "charge now (operator)"
        if not priced:
            return "no_prices", e.spec.max_a, "no price for now: charging"
        if left <= EPS_WH:
            return "done", 0.0, "energy delivered"
        if sum(p.energy_wh for p in steps) < left - EPS_WH:
            by = _hhmm(target.departure)
            why = (f"departure {by} passed: full power" if target.departure <= snap.now else
                   f"{left / 1000:.1f} kWh by {by} does not fit the cheapest periods: full power now")
            return "full_power", e.spec.max_a, why
        current = next((p for p in steps if p.start <= snap.now < p.end), None)
        if current is None:
            nxt = steps[0]
            return "plan", 0.0, f"planned from {_hhmm(nxt.start)} at {nxt.slot.price:g} {nxt.slot.unit}"
        amps = current.power_w / (snap.site.voltage * len(e.spec.phases))
        return ("plan", min(e.spec.max_a, max(e.spec.min_a, amps)),
                f"cheap period ({current.slot.price:g} {current.slot.unit}) until {_hhmm(current.end)}")


def _needs(table: dict[str, Any]) -> dict[str, CardNeed]:
    """CardNeeds from the config, or from plain dicts (a strategy built in code); ValueError if bad."""
    out = {}
    for name, need in table.items():
        if not isinstance(need, CardNeed):
            need = CardNeed(**need)
            need.validate()
        out[str(name)] = need
    return out


def _note(e: EvseState, target: Target, steps: list[Planned], mode: str, why: str) -> dict[str, Any]:
    """One session's plan as `ems/plan` shows it (the API adds what it costs)."""
    return {
        "station_id": e.key[0], "evse_id": e.key[1], "transaction_id": getattr(e, "transaction_id", None),
        "id_token": getattr(e, "id_token", None), "mode": mode, "reason": why,
        "need_wh": round(target.energy_wh), "delivered_wh": round(e.energy_wh), "left_wh": round(target.left(e)),
        "departure": target.departure, "energy_from": target.energy_from, "departure_from": target.departure_from,
        "planned_wh": round(sum(p.energy_wh for p in steps)),
        "periods": [_row(p) for p in steps if p.energy_wh > EPS_WH],
    }


def _row(p: Planned) -> dict[str, Any]:
    return {"start": p.start, "end": p.end, "energy_wh": round(p.energy_wh), "price": p.slot.price,
            "unit": p.slot.unit}


def _hhmm(ts: float) -> str:
    return time.strftime("%H:%M", time.localtime(ts))
