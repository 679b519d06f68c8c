"""Operator API: reservations/*: make, cancel, list."""

from __future__ import annotations

from zaspot.api.handlers import ApiError, handler  # noqa: F401
