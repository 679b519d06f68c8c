"""The `pricing:` section of zaspot.yaml, decoded at startup with `file:line` errors:

    pricing:
      source: {platform: energy_charts, zone: CZ}   # ote | energy_charts | entsoe | file | day_ahead
      currency: CZK          # prices and costs are in it (EUR sources converted at the CNB's rate)
      fallback_price: 4.5    # per kWh, for a period no source has a price for
      refresh: 3600          # s between fetches (and more often when tomorrow's are due)
      exchange_rates: https://www.cnb.cz/...denni_kurz.txt   # the CNB daily rates (the default)
      tariffs: [...]         # zaspot.pricing.tariff (their own decoding)
      cost_messages: {...}   # zaspot.pricing.charger

Without `pricing.source` the feed takes the EMS's `ems.prices` (what zaspot did before).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

import yaml

from zaspot.config import ConfigError, RawSection, decode
from zaspot.pricing.sources.cnb import CNB_URL
from zaspot.ranges import Invalid, Range


@dataclass
class PricingConfig:
    # per kWh in `currency` for a period without a price; required: a source can fail
    fallback_price: Annotated[float, Range(-1000, 100_000)]
    currency: str = "CZK"
    refresh: Annotated[float, Range(10, 86400)] = 3600.0
    exchange_rates: str = CNB_URL
    tariffs: RawSection | None = None  # decoded by zaspot.pricing (COST)
    default_tariff: str | None = None  # zaspot.pricing.tariff (COST): for sessions no tariff is for
    cost_messages: RawSection | None = None  # decoded by zaspot.pricing.charger (CHARGER)

    def validate(self) -> None:
        if not re.fullmatch(r"[A-Z]{3}", self.currency):
            raise Invalid("currency", f"{self.currency!r} is not a currency code (three capitals, e.g. CZK or EUR)")
        if not self.exchange_rates.startswith(("http://", "https://")):
            raise Invalid("exchange_rates", f"must start with http:// or https://, got {self.exchange_rates!r}")


def child(raw: RawSection | None, key: str) -> RawSection | None:
    """The section under `key` of a mapping section (with its own file and line), or None."""
    if raw is None or not isinstance(raw.node, yaml.MappingNode):
        return None
    for k, v in raw.node.value:
        if k.value == key:
            return None if isinstance(v, yaml.ScalarNode) and v.tag.endswith(":null") else RawSection(
                raw.file, v, f"{raw.where}.{key}")
    return None


def load(raw: RawSection) -> tuple[PricingConfig, RawSection | None]:
    """The decoded top of `pricing:` and its `source:` section (None without one).
    (The config decoder keeps `source` for the file a section came from, so it is read apart.)"""
    if raw.node is not None and not isinstance(raw.node, yaml.MappingNode):
        raise ConfigError(f"{raw.location()}: {raw.where}: expected a mapping")
    return decode(PricingConfig, raw.without("source")), child(raw, "source")
