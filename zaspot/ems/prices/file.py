"""Moved to zaspot.pricing.sources.file; kept so old imports work."""

from zaspot.pricing.sources.file import FileConfig, FilePrices, parse

__all__ = ["FileConfig", "FilePrices", "parse"]
