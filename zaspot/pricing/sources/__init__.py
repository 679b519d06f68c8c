"""Price sources of day-ahead markets (each a module; registered as price_source platforms)."""

from __future__ import annotations

from typing import Any

from zaspot.pricing.sources.day_ahead import DayAheadConfig, DayAheadPrices
from zaspot.pricing.sources.energy_charts import EnergyChartsConfig, EnergyChartsPrices
from zaspot.pricing.sources.entsoe import EntsoeConfig, EntsoePrices
from zaspot.pricing.sources.file import FileConfig, FilePrices
from zaspot.pricing.sources.ote import OteConfig, OtePrices

BUILTIN: dict[str, tuple[Any, type]] = {
    "ote": (OtePrices, OteConfig),
    "energy_charts": (EnergyChartsPrices, EnergyChartsConfig),
    "entsoe": (EntsoePrices, EntsoeConfig),
    "file": (FilePrices, FileConfig),
    "day_ahead": (DayAheadPrices, DayAheadConfig),  # aWATTar's format
}


def register(api: Any) -> None:
    """Each name a plugin has not taken already (a plugin may replace a built-in)."""
    for name, (factory, config_type) in BUILTIN.items():
        if api.registry.get("price_source", name) is None:
            api.register_price_source(name, factory, config_type)
