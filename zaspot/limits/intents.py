"""Who wants which limit on an EVSE, and what follows: pure data and arithmetic.

Every source (the EMS's strategy, a rule, an operator, a plugin) sets an intent: a
limit, who, why, until when. What a station is sent is the lowest active intent, never
above the EMS's grant for that EVSE (what the fuses allow it). Limits are amps per
phase here; kW intents are converted with the EVSE's phases and voltage. Every number
is rounded down to a tenth (what OCPP 1.6's schedules take): rounding goes toward the
fuse, never past it.
"""

from __future__ import annotations

from dataclasses import dataclass

from zaspot.core.rounding import floor_tenth

EMS_PREFIX = "ems:"
__all__ = ["Composed", "Intent", "compose", "floor_tenth"]


@dataclass(frozen=True, slots=True)
class Intent:
    source: str  # rule:<id>, ems:<strategy>, operator:<token name>, plugin:<name>
    amps: float  # per phase
    reason: str = ""
    until: float | None = None  # epoch seconds; None: until cleared
    kw: float | None = None  # as it was asked, when asked in kW

    def active(self, now: float) -> bool:
        return self.until is None or now < self.until

    @property
    def from_ems(self) -> bool:
        return self.source.startswith(EMS_PREFIX)

    def to_dict(self) -> dict[str, object]:
        return {"source": self.source, "amps": self.amps, "kw": self.kw, "reason": self.reason, "until": self.until}


@dataclass(frozen=True, slots=True)
class Composed:
    amps: float | None  # None: no intent at all (the station's own limit applies)
    source: str | None
    reason: str
    kw: float | None = None  # the winner's own kW, when it was asked in kW (no amps round trip)


def compose(intents: list[Intent], now: float) -> Composed:
    """The lowest active intent wins; the EMS's grant is one of them, so nothing goes above it."""
    active = [i for i in intents if i.active(now)]
    if not active:
        return Composed(None, None, "")
    lowest = min(active, key=lambda i: (i.amps, i.from_ems))  # a tie: the operator's or rule's reason shows
    return Composed(floor_tenth(max(0.0, lowest.amps)), lowest.source, lowest.reason, lowest.kw)
