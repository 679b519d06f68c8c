"""Moved to zaspot.pricing.sources.day_ahead; kept so old imports work."""

from zaspot.pricing.sources.day_ahead import DayAheadConfig, DayAheadPrices, parse

__all__ = ["DayAheadConfig", "DayAheadPrices", "parse"]
