"""Operator API: history/sessions, sessions/receipt: session costs and receipts (COST)."""

from __future__ import annotations

from zaspot.api.registry import ApiError, arg, handler  # noqa: F401
