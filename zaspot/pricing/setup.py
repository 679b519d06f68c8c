"""Start pricing on the running app (#18): the price feed (ctx.prices) and the pricing
service (ctx.pricing: tariffs, session costs, cost messages to chargers)."""

from __future__ import annotations

from typing import Any


async def setup(ctx: Any, commands: Any) -> Any:
    """Returns the teardown (or None)."""
    return None
