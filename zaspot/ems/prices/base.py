"""Moved to zaspot.pricing.slot (the price feed owns prices); kept so old imports work."""

from zaspot.pricing.slot import PriceSlot, PriceSource

__all__ = ["PriceSlot", "PriceSource"]
