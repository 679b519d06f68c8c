"""Operator API: prices/*, history/sessions, sessions/*: spot prices, session costs, receipts, plans."""

from __future__ import annotations

from zaspot.api.registry import ApiError, arg, handler  # noqa: F401
