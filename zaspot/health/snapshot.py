"""Each station's recent health for /metrics and the TUI: SKELETON, filled by #19 part 5."""

from __future__ import annotations

from typing import Any


class Snapshot:
    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self.stations: dict[str, dict[str, Any]] = {}

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass
