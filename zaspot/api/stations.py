"""Operator API: station/update: a station's name, site and notes."""

from __future__ import annotations

from zaspot.api.handlers import ApiError, handler  # noqa: F401
