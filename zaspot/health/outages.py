"""Each charging port's outages, from the event log (a LogConsumer): SKELETON, filled by #19 part 1."""

from __future__ import annotations

from typing import Any


class OutageLog:
    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass
