"""Time not counted against uptime: SKELETON, filled by #19 part 1."""

from __future__ import annotations

from typing import Any


async def load_config(store: Any, config: Any) -> None:
    """The config's maintenance windows into the store (source 'config'), replacing the last start's."""
