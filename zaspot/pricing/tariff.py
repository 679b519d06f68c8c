"""Tariffs: what a driver pays, as a formula over the spot price.

    pricing:
      default_tariff: standard   # for sessions no tariff below is for (default: the first
                                 # tariff without stations and card_groups, else the spot price)
      tariffs:
        - name: standard
          factor: 1.0            # price per kWh = clamp(spot * factor + markup, min, max) * (1 + vat)
          markup: 2.0
          min: 3.0               # optional bounds, before VAT
          max: 12.0
          vat: 0.21
          session_fee: 0         # per session that delivered energy, before VAT
          idle_fee_per_minute: 0 # per whole minute after charging ended, past the grace, before VAT
          idle_grace_minutes: 0
          pricing: per_period    # or locked: the spot price at the session's start for all of it
          stations: []           # station ids or sites it is for ([] = every station)
          card_groups: []        # card groups it is for ([] = every card, and sessions without one)

Every number configured is before VAT; VAT is added to the whole. A session keeps the
tariff it started with (its terms are stored with its cost).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Annotated, Any, Final, Literal

import yaml

from zaspot.config import ConfigError, RawSection, decode
from zaspot.ranges import Invalid, Range, num

PER_PERIOD: Final = "per_period"
LOCKED: Final = "locked"
Money = Annotated[float, Range(-1_000_000, 1_000_000)]  # per kWh, in the feed's currency
Fee = Annotated[float, Range(0, 1_000_000)]


@dataclass(frozen=True)
class Tariff:
    name: str
    factor: Annotated[float, Range(0, 1000)] = 1.0
    markup: Money = 0.0
    min: Money | None = None
    max: Money | None = None
    vat: Annotated[float, Range(0, 1)] = 0.0  # 0.21 = 21 %
    session_fee: Fee = 0.0
    idle_fee_per_minute: Fee = 0.0
    idle_grace_minutes: Annotated[float, Range(0, 10_080)] = 0.0
    pricing: Literal["per_period", "locked"] = PER_PERIOD
    stations: list[str] = field(default_factory=list)
    card_groups: list[str] = field(default_factory=list)
    currency: str = ""  # the feed's (pricing.currency), set when the tariffs are built

    def validate(self) -> None:
        if not self.name.strip():
            raise Invalid("name", "must not be empty")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise Invalid("min", f"{num(self.min)} must not be above max ({num(self.max)})")
        if self.currency:
            raise Invalid("currency", "is pricing.currency, the same for every tariff")

    # --- the price -------------------------------------------------------------

    def energy_price(self, spot: float) -> float:
        """Per kWh before VAT: clamp(spot * factor + markup, min, max)."""
        price = spot * self.factor + self.markup
        if self.min is not None and price < self.min:
            price = self.min
        if self.max is not None and price > self.max:
            price = self.max
        return price

    def driver_price(self, spot: float) -> float:
        """Per kWh incl. VAT."""
        return self.energy_price(spot) * (1 + self.vat)

    def with_vat(self, amount: float) -> float:
        return amount * (1 + self.vat)

    def text(self, spot: float) -> str:
        """Short, for a charger's display: "7.42 CZK/kWh now (spot-based), incl. 21 % VAT"."""
        cur = f" {self.currency}" if self.currency else ""
        how = "for this session" if self.pricing == LOCKED else "now (spot-based)"
        parts = [f"{self.driver_price(spot):.2f}{cur}/kWh {how}"]
        if self.session_fee:
            parts.append(f"+ {self.with_vat(self.session_fee):.2f}{cur} per session")
        if self.idle_fee_per_minute:
            grace = f" after {num(self.idle_grace_minutes)} min" if self.idle_grace_minutes else ""
            parts.append(f"idle {self.with_vat(self.idle_fee_per_minute):.2f}{cur}/min{grace}")
        parts.append(f"incl. {num(round(self.vat * 100, 2))} % VAT" if self.vat else "no VAT")
        return ", ".join(parts)

    def describe(self) -> str:
        """The formula in words, for a receipt."""
        formula = f"spot x {num(self.factor)} + {num(self.markup)}"
        bounds = [f"at least {num(self.min)}" if self.min is not None else "",
                  f"at most {num(self.max)}" if self.max is not None else ""]
        bounds_text = ", ".join(b for b in bounds if b)
        how = "locked at the start" if self.pricing == LOCKED else "per period"
        text = f"{self.name}: {formula}{f' ({bounds_text})' if bounds_text else ''}"
        return f"{text}, + {num(round(self.vat * 100, 2))} % VAT, {how}"

    # --- who it is for -----------------------------------------------------------

    def is_for(self, station_id: str, site: str, group: str | None) -> bool:
        if self.stations and station_id not in self.stations and (not site or site not in self.stations):
            return False
        return not self.card_groups or (group is not None and group in self.card_groups)

    @property
    def catch_all(self) -> bool:
        return not self.stations and not self.card_groups

    # --- stored with each session's cost -----------------------------------------

    def terms(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_terms(cls, terms: dict[str, Any]) -> Tariff:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in terms.items() if k in known})


SPOT = Tariff("spot")  # no tariff configured: the spot price as it is


@dataclass
class TariffSection:
    """pricing.tariffs and pricing.default_tariff."""

    tariffs: list[Tariff] = field(default_factory=list)
    default_tariff: str | None = None

    def validate(self) -> None:
        seen: set[str] = set()
        for i, tariff in enumerate(self.tariffs):
            if tariff.name in seen:
                raise Invalid(f"tariffs[{i}].name", f"{tariff.name!r} is the name of an earlier tariff")
            seen.add(tariff.name)
        if self.default_tariff is not None and self.default_tariff not in seen:
            known = ", ".join(sorted(seen)) or "none"
            raise Invalid("default_tariff", f"no tariff named {self.default_tariff!r} (tariffs: {known})")


class Tariffs:
    """The configured tariffs, and which one a session gets."""

    def __init__(self, tariffs: list[Tariff], default: str | None = None, currency: str = "") -> None:
        self.all = [dataclasses.replace(t, currency=currency) for t in tariffs]
        self.currency = currency
        named = {t.name: t for t in self.all}
        fallback = next((t for t in self.all if t.catch_all), dataclasses.replace(SPOT, currency=currency))
        self.default = named[default] if default is not None else fallback

    def choose(self, station_id: str, site: str, group: str | None) -> Tariff:
        """The first tariff (in config order) that is for this station and card, else the default."""
        return next((t for t in self.all if t.is_for(station_id, site, group)), self.default)


TARIFF_KEYS = ("tariffs", "default_tariff")


def load_tariffs(pricing: RawSection | None, currency: str = "") -> Tariffs:
    """The tariffs of the `pricing:` section (its tariffs and default_tariff keys; the rest is
    the price feed's). Bad values: ConfigError `file:line: pricing.tariffs[0].vat: …`."""
    if pricing is None or not isinstance(pricing.node, yaml.MappingNode):
        return Tariffs([], None, currency)
    node = pricing.node
    kept = [(k, v) for k, v in node.value if k.value in TARIFF_KEYS]
    mine = RawSection(pricing.file, yaml.MappingNode(node.tag, kept, node.start_mark, node.end_mark), pricing.where)
    section = decode(TariffSection, mine)
    return Tariffs(section.tariffs, section.default_tariff, currency)


__all__ = ["LOCKED", "PER_PERIOD", "SPOT", "ConfigError", "Tariff", "TariffSection", "Tariffs", "load_tariffs"]
