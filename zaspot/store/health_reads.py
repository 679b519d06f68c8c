"""Store: what fault analytics read: alarms, module trips, station models (zaspot.health.faults; #19 part 2)."""

from __future__ import annotations

from typing import Any


class HealthReads:
    _writer: Any

    async def _query(self, sql: str, params: tuple = ()) -> list[dict[str, Any]]:  # from Reads
        raise NotImplementedError
