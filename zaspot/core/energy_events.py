"""Normalized events of energy management and power limits (see zaspot.core.events)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from zaspot.core.events import Event


@dataclass(frozen=True, slots=True)
class LimitChanged(Event):
    """The EMS sent an EVSE a new limit; `ok` says whether the station took it."""

    type: ClassVar[str] = "ems_limit"
    evse_id: int
    amps: float  # per phase
    watts: float
    reason: str
    ok: bool
    previous: float | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class LimitInForce(Event):
    """What an EVSE's limit in force is now (zaspot.limits), and every intent behind it."""

    type: ClassVar[str] = "limit_in_force"
    evse_id: int
    amps: float | None  # per phase; None: none of ours
    watts: float | None
    set_by: str | None  # rule:<id>, ems:<strategy>, operator:<token name>, …
    reason: str = ""
    ok: bool = True  # False: the last send failed (what is in force did not change)
    error: str | None = None
    intents: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class LimitProblem(Event):
    """A limit a station refuses (LimitRefused) or accepts and ignores (LimitIgnored):
    diagnostics opens the alarm while `active`, and closes it after."""

    type: ClassVar[str] = "limit_problem"
    evse_id: int
    code: str
    active: bool
    message: str = ""


@dataclass(frozen=True, slots=True)
class EmsState(Event):
    """One control-loop tick: the site's power flow and each EVSE's limit (station_id "")."""

    type: ClassVar[str] = "ems_state"
    strategy: str
    ev_w: float
    grid_w: float | None = None
    grid_a: tuple[float, ...] | None = None
    pv_w: float | None = None
    battery_soc: float | None = None
    battery_w: float | None = None
    limits: tuple[dict[str, Any], ...] = ()  # {station_id, evse_id, amps, watts, reason, charging}
    notes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PriceUpdated(Event):
    """The energy price in force changed (a new slot began, or new prices arrived).
    Site-wide, so station_id is empty."""

    type: ClassVar[str] = "price_updated"
    price: float
    unit: str = "EUR/kWh"
    area: str | None = None
    valid_from: float | None = None
    valid_until: float | None = None
