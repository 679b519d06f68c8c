"""Store: temperature against current per day and the fold marks (zaspot.health.loadtemp; #19 part 4)."""

from __future__ import annotations

from typing import Any


class HealthTemperatureStore:
    _writer: Any

    async def _query(self, sql: str, params: tuple = ()) -> list[dict[str, Any]]:  # from Reads
        raise NotImplementedError
