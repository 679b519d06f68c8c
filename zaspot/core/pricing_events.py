"""Normalized events of prices and session costs (see zaspot.core.events)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from zaspot.core.events import Event


@dataclass(frozen=True, slots=True)
class DriverIdentified(Event):
    """A station's Authorize was accepted for this card (zaspot.ocpp.pricing_v16): a 1.6
    station that takes the OCA cost messages is told the card's price next. On the bus
    only, like CommandSent: nothing to keep."""

    type: ClassVar[str] = "driver_identified"
    id_token: str


@dataclass(frozen=True, slots=True)
class PricesFetched(Event):
    """New spot prices arrived (zaspot.pricing.feed): periods not known before, or known
    with another price. Site-wide, so station_id is empty. Plans are made again on it."""

    type: ClassVar[str] = "prices_fetched"
    source: str
    periods: int  # how many periods are new or changed
    start: float  # the first of them
    end: float  # the end of the last
    currency: str


@dataclass(frozen=True, slots=True)
class SessionNeedChanged(Event):
    """What a running session needs (zaspot.pricing.needs): energy in all (Wh), departure,
    "charge now"; said by its EV (`source` "ev") or an operator ("operator:<user>")."""

    type: ClassVar[str] = "session_need"
    evse_id: int
    transaction_id: str | None  # None: told before its transaction started
    energy_wh: float | None
    departure: float | None
    charge_now: bool = False
    source: str = ""


@dataclass(frozen=True, slots=True)
class SessionCost(Event):
    """A session's cost changed (zaspot.pricing.service; at most every 60 s while it runs),
    or it ended (`final`). `cost` includes VAT; `transaction_id` is the transaction's key."""

    type: ClassVar[str] = "session_cost"
    transaction_id: str
    evse_id: int
    energy_wh: float
    cost: float
    currency: str
    final: bool = False
    tariff: str = ""
    excl_vat: float = 0.0
