"""Operator API: sessions/plan, sessions/charge_now: a session's need and departure (PLAN)."""

from __future__ import annotations

from zaspot.api.registry import ApiError, arg, handler  # noqa: F401
