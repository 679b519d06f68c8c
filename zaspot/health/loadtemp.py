"""Temperature against current drawn, folded per port and day: SKELETON, filled by #19 part 4."""

from __future__ import annotations

from typing import Any


class LoadTemperature:
    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass
