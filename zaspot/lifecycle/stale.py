"""Stale transactions: closed with their last meter reading (#17)."""

from __future__ import annotations

from typing import Any


async def setup(ctx: Any, commands: Any) -> Any:
    """Start this feature on the running app; returns its teardown (or None)."""
    return None
