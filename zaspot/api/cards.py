"""Operator API: cards/*: the id tokens, the authorization mode."""

from __future__ import annotations

from zaspot.api.handlers import ApiError, handler  # noqa: F401
