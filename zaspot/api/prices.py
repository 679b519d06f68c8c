"""Operator API: prices/*: the spot prices (FEED)."""

from __future__ import annotations

from zaspot.api.registry import ApiError, arg, handler  # noqa: F401
