"""Operator API: firmware/* and logs/*: firmware files, updates, rollouts; log retrieval."""

from __future__ import annotations

from zaspot.api.handlers import ApiError, handler  # noqa: F401
